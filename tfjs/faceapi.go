package tfjs

import (
	"fmt"
)

// FaceExpressionInput is the side of face-api's expression net input.
const FaceExpressionInput = 112

// LoadFaceExpressionNet reads face-api's face_expression_model
// weights manifest and builds the network (FaceExpressionNet).
func LoadFaceExpressionNet(manifest string) (*Model, error) {
	w, err := ReadWeightsManifest(manifest)
	if err != nil {
		return nil, err
	}
	return FaceExpressionNet(manifest, w)
}

// FaceExpressionNet builds face-api's FaceExpressionNet (@vladmandic/face-api
// 1.7: FaceFeatureExtractor, four dense blocks of depthwise-separable
// convolutions, then a 7-way fully connected layer and softmax) over the
// weights of its manifest, as the network's code defines it. name names the
// model in errors.
//
// Input "input" is [N, 112, 112, 3]: RGB on the 0..255 scale, already
// padded to a square and resized to 112×112 (face-api's NetInput); the
// graph subtracts face-api's mean RGB and divides by 255 as its
// FaceFeatureExtractor does. Output: [N, 7] probabilities in
// face-api's order (FACE_EXPRESSION_LABELS of its FaceExpressions.ts):
// neutral, happy, sad, angry, fearful, disgusted, surprised.
func FaceExpressionNet(name string, w map[string]*Tensor) (*Model, error) {
	b := &netBuilder{w: w, name: name}
	s := FaceExpressionInput
	b.add(Node{Name: "input", Op: "Placeholder", Attr: map[string]Attr{"shape": {Kind: 'h', Shape: []int{-1, s, s, 3}}}})
	mean := b.konst("mean_rgb", []int{3}, []float32{122.782, 117.001, 104.298})
	x := b.op("normalize/sub", "Sub", nil, "input", mean)
	x = b.op("normalize/div", "RealDiv", nil, x, b.konst("normalize/255", nil, []float32{255}))
	for i := 0; i < 4; i++ {
		x = b.denseBlock4(fmt.Sprintf("dense%d", i), x, i == 0)
	}
	x = b.op("avgpool", "AvgPool", map[string]Attr{"ksize": AttrInts(1, 7, 7, 1), "strides": AttrInts(1, 2, 2, 1), "padding": AttrString("VALID")}, x)
	x = b.op("flatten", "Reshape", nil, x, b.konstInt("flatten/shape", []int32{-1, 256}))
	x = b.op("fc", "_FusedMatMul", map[string]Attr{"fused_ops": AttrStrings("BiasAdd"), "num_args": AttrInt(1)}, x, b.weight("fc/weights"), b.weight("fc/bias"))
	b.op("softmax", "Softmax", nil, x)
	if b.err != nil {
		return nil, b.err
	}
	return NewModel(name, Graph{Nodes: b.nodes, Outputs: []string{"softmax"}})
}

// netBuilder assembles a graph in code.
type netBuilder struct {
	name  string
	w     map[string]*Tensor
	nodes []Node
	have  map[string]bool
	err   error
}

func (b *netBuilder) add(n Node) string {
	b.nodes = append(b.nodes, n)
	return n.Name
}

func (b *netBuilder) op(name, op string, attr map[string]Attr, in ...string) string {
	if attr == nil {
		attr = map[string]Attr{}
	}
	return b.add(Node{Name: name, Op: op, Inputs: in, Attr: attr})
}

func (b *netBuilder) konst(name string, shape []int, v []float32) string {
	return b.add(Node{Name: name, Op: "Const", Value: &Tensor{Name: name, Shape: shape, DType: "float32", F32: v}})
}

func (b *netBuilder) konstInt(name string, v []int32) string {
	return b.add(Node{Name: name, Op: "Const", Value: &Tensor{Name: name, Shape: []int{len(v)}, DType: "int32", I32: v}})
}

// weight adds the manifest's tensor name as a constant.
func (b *netBuilder) weight(name string) string {
	if b.have == nil {
		b.have = map[string]bool{}
	}
	if b.have[name] {
		return name
	}
	t, ok := b.w[name]
	if !ok || t.DType != "float32" {
		if b.err == nil {
			b.err = fmt.Errorf("tfjs: %s: tensor %q is missing or not float32", b.name, name)
		}
		return name
	}
	b.have[name] = true
	return b.add(Node{Name: name, Op: "Const", Value: t})
}

var (
	same     = AttrString("SAME")
	valid    = AttrString("VALID")
	stride1  = AttrInts(1, 1, 1, 1)
	stride2  = AttrInts(1, 2, 2, 1)
	biasOnly = AttrStrings("BiasAdd")
	biasRelu = AttrStrings("BiasAdd", "Relu")
)

// separable is face-api's depthwiseSeparableConv: tf.separableConv2d
// (depthwise with the stride, then a 1×1 convolution) plus bias, with an
// optional ReLU fused after.
func (b *netBuilder) separable(prefix, x string, stride2x, relu bool) string {
	st := stride1
	if stride2x {
		st = stride2
	}
	dw := b.op(prefix+"/depthwise", "DepthwiseConv2dNative", map[string]Attr{"strides": st, "padding": same}, x, b.weight(prefix+"/depthwise_filter"))
	fused := biasOnly
	if relu {
		fused = biasRelu
	}
	return b.op(prefix+"/pointwise", "_FusedConv2D", map[string]Attr{"strides": stride1, "padding": valid, "fused_ops": fused, "num_args": AttrInt(1)},
		dw, b.weight(prefix+"/pointwise_filter"), b.weight(prefix+"/bias"))
}

// denseBlock4 is face-api's denseBlock4 with its additions in the same
// order (out1 + (out2 + (out3 + out4))), so float rounding follows it.
func (b *netBuilder) denseBlock4(prefix, x string, first bool) string {
	var out1 string
	if first {
		out1 = b.op(prefix+"/conv0", "_FusedConv2D", map[string]Attr{"strides": stride2, "padding": same, "fused_ops": biasRelu, "num_args": AttrInt(1)},
			x, b.weight(prefix+"/conv0/filters"), b.weight(prefix+"/conv0/bias"))
	} else {
		out1 = b.separable(prefix+"/conv0", x, true, true)
	}
	out2 := b.separable(prefix+"/conv1", out1, false, false)
	in3 := b.op(prefix+"/in3/relu", "Relu", nil, b.op(prefix+"/in3/add", "AddV2", nil, out1, out2))
	out3 := b.separable(prefix+"/conv2", in3, false, false)
	s23 := b.op(prefix+"/in4/add23", "AddV2", nil, out2, out3)
	in4 := b.op(prefix+"/in4/relu", "Relu", nil, b.op(prefix+"/in4/add", "AddV2", nil, out1, s23))
	out4 := b.separable(prefix+"/conv3", in4, false, false)
	s34 := b.op(prefix+"/out/add34", "AddV2", nil, out3, out4)
	s234 := b.op(prefix+"/out/add234", "AddV2", nil, out2, s34)
	return b.op(prefix+"/out/relu", "Relu", nil, b.op(prefix+"/out/add", "AddV2", nil, out1, s234))
}
