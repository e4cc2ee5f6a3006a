'use strict';
// Prints, per JPEG, its size and the SHA-256 of the RGB pixels jpeg-js
// decodes (as fer.js decodes them): jpegdec's golden file for DecodeJS. Run by
// scripts/fer-golden.sh: NODE_PATH=PEER/node_modules node hash.js FILE...
const fs = require('fs');
const crypto = require('crypto');
const jpeg = require('jpeg-js');
for (const f of process.argv.slice(2)) {
  const im = jpeg.decode(fs.readFileSync(f), { useTArray: true, formatAsRGBA: false });
  const sum = crypto.createHash('sha256').update(Buffer.from(im.data)).digest('hex');
  console.log(`${f.split('/').pop()} ${im.width} ${im.height} ${sum}`);
}
