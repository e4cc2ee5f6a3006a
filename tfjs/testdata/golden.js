'use strict';
// Golden outputs of TensorFlow.js (WASM backend, the backend of the peer
// ../shared/bench/tfjs/fer.js) for tfjs's op and weight-decoding tests.
// Regenerate with scripts/tfjs-golden.sh (needs the peer's node_modules):
//   NODE_PATH=PEER/node_modules node tfjs/testdata/golden.js tfjs/testdata
// Inputs come from a fixed-seed generator, so a rerun writes the same files.
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');

let seed = 12345;
function rnd() { // mulberry32
  seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const size = (s) => s.reduce((a, b) => a * b, 1);
function rand(shape, lo = -1, hi = 1) {
  const v = new Float32Array(size(shape));
  for (let i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * rnd();
  return v;
}
const b64 = (s) => Buffer.from(s).toString('base64');
const A = {
  s: (v) => ({ s: b64(v) }),
  i: (v) => ({ i: String(v) }),
  f: (v) => ({ f: v }),
  b: (v) => ({ b: v }),
  ints: (...v) => ({ list: { i: v.map(String) } }),
  strs: (...v) => ({ list: { s: v.map(b64) } }),
};

const cases = [];
// add records one case: op and attrs as in a graph model, inputs (the first
// a Placeholder, others constants unless listed in vars), and TF.js's output.
async function add(name, op, attrs, inputs, fn, vars = [0]) {
  const ts = inputs.map((x) => tf.tensor(x.data, x.shape, x.dtype || 'float32'));
  const out = fn(...ts);
  const data = Array.from(await out.data());
  cases.push({
    name, op, attrs,
    inputs: inputs.map((x, k) => ({ shape: x.shape, dtype: x.dtype || 'float32', data: Array.from(x.data), placeholder: vars.includes(k) })),
    output: { shape: out.shape, data },
  });
  tf.dispose([...ts, out]);
}
const F = (shape, lo, hi) => ({ shape, data: rand(shape, lo, hi) });
const I = (data) => ({ shape: [data.length], dtype: 'int32', data: Int32Array.from(data) });
const S = (data) => ({ shape: [], data: Float32Array.from([data]) });

async function opCases() {
  const conv = (st, pad, dil = 1) => ({ strides: A.ints(1, st, st, 1), padding: A.s(pad.toUpperCase()), dilations: A.ints(1, dil, dil, 1), data_format: A.s('NHWC') });
  const c = (name, x, f, st, pad, dil = 1) => add(name, 'Conv2D', conv(st, pad, dil), [F(x), F(f)], (a, b) => tf.conv2d(a, b, st, pad, 'NHWC', dil));
  await c('conv3x3_same', [1, 7, 8, 3], [3, 3, 3, 4], 1, 'same');
  await c('conv3x3_valid_s2', [1, 9, 9, 2], [3, 3, 2, 5], 2, 'valid');
  await c('conv3x3_same_dil2', [1, 8, 8, 2], [3, 3, 2, 3], 1, 'same', 2);
  await c('conv1x1_batch2', [2, 5, 5, 8], [1, 1, 8, 16], 1, 'valid');
  await c('conv1x1_s2_same', [1, 7, 7, 4], [1, 1, 4, 8], 2, 'same');
  await c('conv5x5_s2_same_even', [1, 8, 8, 3], [5, 5, 3, 8], 2, 'same');
  const acts = [['relu', 'Relu'], ['relu6', 'Relu6'], ['elu', 'Elu'], ['sigmoid', 'Sigmoid'], ['leakyrelu', 'LeakyRelu'], ['prelu', 'Prelu'], ['linear', null]];
  for (const [act, fused] of acts) {
    const co = 16;
    const at = { ...conv(2, 'same'), fused_ops: fused ? A.strs('BiasAdd', fused) : A.strs('BiasAdd'), num_args: A.i(act === 'prelu' ? 2 : 1) };
    if (act === 'leakyrelu') at.leakyrelu_alpha = A.f(0.3);
    const ins = [F([1, 10, 9, 3]), F([3, 3, 3, co]), F([co])];
    if (act === 'prelu') ins.push(F([co], 0, 0.5));
    await add(`fusedconv_${act}`, '_FusedConv2D', at, ins, (x, f, bias, alpha) => tf.fused.conv2d({
      x, filter: f, strides: 2, pad: 'same', bias, activation: act, preluActivationWeights: alpha, leakyreluAlpha: 0.3,
    }));
  }
  const d = (name, x, f, st, pad, dil = 1) => add(name, 'DepthwiseConv2dNative', conv(st, pad, dil), [F(x), F(f)], (a, b) => tf.depthwiseConv2d(a, b, st, pad, 'NHWC', dil));
  await d('dw3x3_s1_same', [1, 9, 9, 16], [3, 3, 16, 1], 1, 'same');
  await d('dw3x3_s2_same', [1, 9, 10, 16], [3, 3, 16, 1], 2, 'same');
  await d('dw3x3_s2_valid', [1, 9, 9, 8], [3, 3, 8, 1], 2, 'valid');
  await d('dw3x3_mult2', [1, 6, 6, 4], [3, 3, 4, 2], 1, 'same');
  await d('dw3x3_dil2', [1, 8, 8, 8], [3, 3, 8, 1], 1, 'same', 2);
  await d('dw3x3_c12', [2, 5, 6, 12], [3, 3, 12, 1], 1, 'same');
  await d('dw5x5_c8_s2', [1, 11, 11, 8], [5, 5, 8, 1], 2, 'same');
  await add('fuseddw_relu', 'FusedDepthwiseConv2dNative', { ...conv(1, 'same'), fused_ops: A.strs('BiasAdd', 'Relu'), num_args: A.i(1) },
    [F([1, 6, 7, 8]), F([3, 3, 8, 1]), F([8])], (x, f, bias) => tf.fused.depthwiseConv2d({ x, filter: f, strides: 1, pad: 'same', bias, activation: 'relu' }));
  const pool = (k, st, pad) => ({ ksize: A.ints(1, k, k, 1), strides: A.ints(1, st, st, 1), padding: A.s(pad.toUpperCase()), data_format: A.s('NHWC') });
  await add('maxpool3_s2_same', 'MaxPool', pool(3, 2, 'same'), [F([1, 9, 9, 8])], (x) => tf.maxPool(x, 3, 2, 'same'));
  await add('maxpool2_s2_valid', 'MaxPool', pool(2, 2, 'valid'), [F([1, 8, 7, 3])], (x) => tf.maxPool(x, 2, 2, 'valid'));
  await add('avgpool3_s2_same', 'AvgPool', pool(3, 2, 'same'), [F([1, 9, 8, 8])], (x) => tf.avgPool(x, 3, 2, 'same'));
  await add('avgpool7_s2_valid', 'AvgPool', pool(7, 2, 'valid'), [F([2, 7, 7, 16])], (x) => tf.avgPool(x, 7, 2, 'valid'));
  const bin = [['AddV2', tf.add], ['Sub', tf.sub], ['Mul', tf.mul], ['RealDiv', tf.div], ['Maximum', tf.maximum], ['Minimum', tf.minimum]];
  for (const [op, fn] of bin) {
    await add(`${op}_same`, op, {}, [F([2, 3, 4]), F([2, 3, 4], 0.5, 2)], fn);
    await add(`${op}_row`, op, {}, [F([2, 3, 16]), F([16], 0.5, 2)], fn);
    await add(`${op}_general`, op, {}, [F([2, 1, 4]), F([3, 1], 0.5, 2)], fn);
    await add(`${op}_scalar`, op, {}, [F([5, 3]), S(1.5)], fn);
    await add(`${op}_scalar_first`, op, {}, [S(0.75), F([4, 3], 0.5, 2)], fn, [1]);
  }
  await add('biasadd', 'BiasAdd', { data_format: A.s('NHWC') }, [F([1, 3, 3, 8]), F([8])], (x, b) => tf.add(x, b));
  const un = [['Relu', tf.relu], ['Relu6', tf.relu6], ['Elu', tf.elu], ['Sigmoid', tf.sigmoid], ['Tanh', tf.tanh]];
  for (const [op, fn] of un) await add(op, op, {}, [F([3, 4, 5], -8, 8)], fn);
  await add('LeakyRelu', 'LeakyRelu', { alpha: A.f(0.1) }, [F([3, 4, 5], -4, 4)], (x) => tf.leakyRelu(x, 0.1));
  await add('Prelu', 'Prelu', {}, [F([1, 3, 3, 4]), F([4], 0, 0.5)], (x, a) => tf.prelu(x, a));
  await add('softmax', 'Softmax', {}, [F([3, 7], -5, 5)], (x) => tf.softmax(x));
  await add('mean12', 'Mean', { keep_dims: A.b(false) }, [F([2, 4, 5, 6]), I([1, 2])], (x) => tf.mean(x, [1, 2], false));
  await add('mean_last_keep', 'Mean', { keep_dims: A.b(true) }, [F([2, 3, 5]), I([-1])], (x) => tf.mean(x, [-1], true));
  await add('sum0', 'Sum', { keep_dims: A.b(false) }, [F([3, 4]), I([0])], (x) => tf.sum(x, [0], false));
  await add('max1', 'Max', { keep_dims: A.b(false) }, [F([3, 4, 2]), I([1])], (x) => tf.max(x, [1], false));
  await add('reshape', 'Reshape', {}, [F([2, 3, 4]), I([4, -1])], (x) => tf.reshape(x, [4, -1]));
  await add('concat3', 'ConcatV2', { N: A.i(2) }, [F([1, 2, 2, 3]), F([1, 2, 2, 5]), I([3])], (a, b) => tf.concat([a, b], 3), [0, 1]);
  await add('concat0', 'ConcatV2', { N: A.i(3) }, [F([1, 3]), F([2, 3]), F([1, 3]), I([0])], (a, b, c2) => tf.concat([a, b, c2], 0), [0, 1, 2]);
  await add('concat_neg', 'ConcatV2', { N: A.i(2) }, [F([2, 3, 2]), F([2, 3, 1]), I([-1])], (a, b) => tf.concat([a, b], -1), [0, 1]);
  await add('pad', 'Pad', {}, [F([1, 3, 4, 2]), { shape: [4, 2], dtype: 'int32', data: Int32Array.from([0, 0, 1, 2, 2, 1, 0, 0]) }],
    (x) => tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]));
  await add('padv2', 'PadV2', {}, [F([2, 3]), { shape: [2, 2], dtype: 'int32', data: Int32Array.from([1, 0, 0, 2]) }, S(0.5)],
    (x) => tf.pad(x, [[1, 0], [0, 2]], 0.5));
  const rs = (name, x, sz, align, half) => add(name, 'ResizeBilinear', { align_corners: A.b(align), half_pixel_centers: A.b(half) },
    [F(x, 0, 255), I(sz)], (t) => tf.image.resizeBilinear(t, sz, align, half));
  await rs('resize_up', [1, 5, 7, 3], [8, 11], false, false);
  await rs('resize_up_align', [1, 5, 7, 3], [8, 11], true, false);
  await rs('resize_up_half', [1, 5, 7, 3], [8, 11], false, true);
  await rs('resize_down', [2, 9, 9, 2], [4, 5], false, false);
  await rs('resize_down_odd', [1, 37, 29, 3], [17, 23], false, false);
  const mm = (name, a, b, ta, tb) => add(name, 'MatMul', { transpose_a: A.b(ta), transpose_b: A.b(tb) }, [F(a), F(b)], (x, y) => tf.matMul(x, y, ta, tb));
  await mm('matmul', [3, 5], [5, 4], false, false);
  await mm('matmul_ta', [5, 3], [5, 4], true, false);
  await mm('matmul_tb', [3, 5], [4, 5], false, true);
  await mm('matmul_tatb', [5, 3], [4, 5], true, true);
  await add('fusedmatmul_relu', '_FusedMatMul', { transpose_a: A.b(false), transpose_b: A.b(false), fused_ops: A.strs('BiasAdd', 'Relu'), num_args: A.i(1) },
    [F([2, 256]), F([256, 7]), F([7])], (a, b, bias) => tf.fused.matMul({ a, b, bias, activation: 'relu' }));
  await add('batchnorm', 'FusedBatchNormV3', { epsilon: A.f(0.001), is_training: A.b(false), data_format: A.s('NHWC') },
    [F([1, 3, 3, 4]), F([4], 0.5, 2), F([4]), F([4]), F([4], 0.1, 2)],
    (x, scale, offset, mean, variance) => tf.batchNorm(x, mean, variance, offset, scale, 0.001));
}

// Weight decoding: random bytes under every stored dtype, decoded by
// tfjs-core's io.decodeWeights; values as float32/int32 bit patterns.
function weightCases() {
  const specs = [
    { name: 'f32', shape: [2, 3], dtype: 'float32' },
    { name: 'i32', shape: [4], dtype: 'int32' },
    { name: 'b', shape: [5], dtype: 'bool' },
    { name: 'u8', shape: [3, 3, 2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.0057930146946626555, min: -0.7125408074435067 } },
    { name: 'u16', shape: [7], dtype: 'float32', quantization: { dtype: 'uint16', scale: 3.0517578125e-5 * 1.37, min: -1.2345678 } },
    { name: 'f16', shape: [64], dtype: 'float32', quantization: { dtype: 'float16' } },
    { name: 'i32u8', shape: [6], dtype: 'int32', quantization: { dtype: 'uint8', scale: 0.37, min: -20.5 } },
    { name: 'scalar', shape: [], dtype: 'float32' },
  ];
  const bytes = [];
  for (const s of specs) {
    const n = size(s.shape);
    const bpv = s.quantization ? { uint8: 1, uint16: 2, float16: 2 }[s.quantization.dtype] : { float32: 4, int32: 4, bool: 1 }[s.dtype];
    for (let i = 0; i < n * bpv; i++) bytes.push(Math.floor(rnd() * 256));
  }
  // f16: also every special class (zero, subnormal, normal, max, inf, nan).
  const buf = Uint8Array.from(bytes);
  let off = 0;
  for (const s of specs) {
    if (s.name === 'f16') {
      const special = [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x3555];
      special.forEach((h, k) => { buf[off + 2 * k] = h & 0xff; buf[off + 2 * k + 1] = h >> 8; });
    }
    const n = size(s.shape);
    off += n * (s.quantization ? { uint8: 1, uint16: 2, float16: 2 }[s.quantization.dtype] : { float32: 4, int32: 4, bool: 1 }[s.dtype]);
  }
  const t = tf.io.decodeWeights(buf.buffer, specs);
  const out = {};
  for (const s of specs) {
    const v = t[s.name].dataSync();
    out[s.name] = s.dtype === 'float32' ? Array.from(new Uint32Array(Float32Array.from(v).buffer)) : Array.from(v);
  }
  return { specs, bytes: Buffer.from(buf).toString('base64'), values: out };
}

async function main() {
  const dir = process.argv[2];
  if (!dir) { console.error('usage: node golden.js OUTDIR'); process.exit(2); }
  await tf.setBackend('wasm'); await tf.ready();
  await opCases();
  fs.writeFileSync(path.join(dir, 'ops_golden.json'), JSON.stringify({ tfjs: tf.version.tfjs, backend: tf.getBackend(), cases }) + '\n');
  fs.writeFileSync(path.join(dir, 'weights_golden.json'), JSON.stringify({ tfjs: tf.version.tfjs, ...weightCases() }) + '\n');
  console.log(`${cases.length} op cases`);
}
main().catch((e) => { console.error(e); process.exit(1); });
