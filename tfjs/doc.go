// Package tfjs reads TensorFlow.js models and runs them in pure Go on the
// nn engine's SGEMM.
//
// Two formats are read:
//
//   - graph models: model.json with a modelTopology (a TensorFlow GraphDef
//     in JSON) and a weightsManifest, weights in .bin shards beside it
//     (LoadGraphModel);
//   - weight manifests (*-weights_manifest.json + .bin shards), the format
//     of face-api, whose architecture is defined by the network's code, not
//     by the file (ReadWeightsManifest; FaceExpressionNet builds face-api's
//     expression net over them).
//
// Weights may be float32 or int32, or quantised as TensorFlow.js writes
// them: uint8 or uint16 with a scale and a minimum (value = q·scale + min,
// computed in float64 and rounded to float32 as tfjs-core does), or
// float16.
//
// A Model is a validated graph: every node's op is one this package
// executes, checked at load time (an unknown op is an error naming the op
// and the node), weights decoded and attached. A Runner executes a Model for
// one input shape: shapes are inferred, every buffer is allocated once when
// the Runner is made, and Run reuses them, so repeated calls allocate
// nothing of their own. Intermediate tensors share buffers by liveness: an
// op writes into the buffer of a tensor no later op reads (never into one
// of its own inputs), so a Runner holds about the largest set of tensors
// alive at once rather than all of them (BlazeFace: 5.5 MiB, not 66), with
// the same arithmetic and outputs. An element-wise op whose input is a
// convolution's (or another element-wise op's) output read by nothing else
// runs inside the step that writes it, block by block while the block is
// in cache, in place (a shortcut's AddV2 and the Prelu or Relu after it:
// BlazeFace 136 steps → 76, iris 141 → 89), again with the same arithmetic.
// A Runner computes on the calling goroutine only and is not safe for
// concurrent use; make one per goroutine (they share the Model's weights,
// never buffers).
//
// Ops: Const, Placeholder, Identity, Conv2D, _FusedConv2D (BiasAdd, then
// Relu, Relu6, Elu, Sigmoid, LeakyRelu or Prelu), DepthwiseConv2dNative,
// FusedDepthwiseConv2dNative, MaxPool, AvgPool, FusedBatchNorm(V3), AddV2,
// Add, BiasAdd, Sub, Mul, RealDiv, Maximum, Minimum (NumPy broadcasting),
// Relu, Relu6, Elu, Sigmoid, Tanh, LeakyRelu, Prelu, Softmax, Mean, Sum,
// Max, Reshape, Squeeze, ExpandDims, ConcatV2, Pad, PadV2, ResizeBilinear,
// MatMul and _FusedMatMul. Separable convolutions are the depthwise and
// 1×1 convolutions they are made of.
//
// Limits: tensors are float32 at run time; integer inputs that ops take as
// parameters (axes, shapes, paddings, sizes) must be constants of the
// graph. Layout is NHWC only. Control flow, dynamic shapes (Shape,
// StridedSlice on runtime values) and string tensors are not supported;
// such a model is refused at load time. Convolutions run as im2col + SGEMM
// (1×1 convolutions as a plain SGEMM), depthwise convolutions as a direct
// AVX2 kernel (portable Go elsewhere); results agree with TensorFlow.js to
// float32 rounding, not bit for bit.
package tfjs
