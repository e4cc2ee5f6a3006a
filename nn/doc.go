// Package nn is a small, exact and fast neural-network training engine for
// CPUs: flat float32 tensors, layers with explicit forward and backward
// passes (one layer at a time, in the style of llm.c; no autograd graph),
// losses, AdamW, a SIMD SGEMM and safetensors checkpoints.
//
// Limits: CPU only, float32 only, the layers listed below and no others, no
// automatic differentiation (each layer's backward is written by hand and
// checked by finite differences); the fast kernels are amd64 AVX2/FMA
// assembly, elsewhere portable Go runs. It imports nothing of tell's but
// atomicfile (a leaf), so that every model package can build on it.
//
// # Layers
//
// Every layer owns its parameters (*Param: Name, Shape, Data, Grad) and the
// tensors it returns; Forward keeps what Backward needs, Backward takes the
// gradient of the layer's output and returns the gradient of its input while
// accumulating (+=) the parameter gradients. Call ZeroGrad before each step.
// Returned tensors are overwritten by the next call of the same layer.
//
//   - Linear (y = x·Wᵀ + b, W [out, in]), Conv2d (stride, padding),
//     DepthwiseConv2d (one kernel per channel), PatchEmbed (non-overlapping
//     patches → tokens), Embedding
//   - LayerNorm, BatchNorm (training and evaluation modes, running
//     statistics as buffers), GELU (exact erf), ReLU, Dropout (seeded)
//   - Attention (multi-head self-attention, optional key padding mask),
//     Block (pre-norm transformer encoder layer); both take Queries to
//     compute only the first tokens' outputs (a last layer read through its
//     class token)
//   - MeanTokens, MaxTokens, Token (class token), Pool2d (max or average,
//     with padding);
//     Add/AddTo for residuals
//
// Losses return the loss and the gradient of their inputs: CrossEntropy
// (class weights, label smoothing; PyTorch's definition), Focal (γ, per-class
// α) and InfoNCE (symmetric CLIP loss with a learnable temperature).
//
// AdamW (PyTorch's update, per-parameter NoDecay exclusions), ClipGradNorm
// and WarmupCosine train the parameters. Gemm is the SGEMM underneath
// (row-major, either operand transposed).
//
// RefModel is the reference MER model of the project's PyTorch benchmark
// (ViT over flow images + emotion-inference blocks + AU-text transformer,
// cross-entropy + InfoNCE); BenchRef times its training steps.
//
// # Names and checkpoints
//
// Parameter names are given at construction and are the checkpoint keys:
// a layer called "vis.0" has "vis.0.ln1.weight", "vis.0.attn.qkv.weight",
// and so on (see each constructor). SaveCheckpoint writes safetensors
// (little-endian F32) with the optimiser state under "optim.m.NAME" and
// "optim.v.NAME", the step and hyper-parameters in the metadata
// ("optim.step", "optim.lr", ...) and a CRC-32 per tensor ("nn.crc32.NAME");
// LoadCheckpoint restores them, so training resumes bit-exactly, and names
// the tensor when a file is corrupt, truncated or from another model.
// Python's safetensors reads the files (the weights are plain F32 tensors).
//
// # Threads and determinism
//
// Kernels use GOMAXPROCS goroutines, but every output value is computed by
// one goroutine in a fixed order, so results are bit-identical for any
// thread count, and identical for a seed (Dropout's generator state is not
// checkpointed: resume is bit-exact for models without dropout). The GEMM
// micro-kernel (and GELU, vector adds) is AVX2/FMA assembly when the CPU
// has it; build with -tags purego or set TELL_NN_NOASM=1 to use the
// portable Go code, which passes the same tests. The GEMM kernel is
// AVX-512 on Intel CPUs that have it (TELL_NN_AVX2=1 keeps AVX2,
// TELL_NN_AVX512=1 asks for AVX-512 on others, e.g. Zen 4, where it was
// slower); every kernel gives the same bits.
package nn
