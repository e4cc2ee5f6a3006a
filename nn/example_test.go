package nn_test

import (
	"fmt"

	"github.com/tell-project/tell/nn"
)

// A two-layer classifier trained with AdamW on two separable points.
func Example() {
	rng := nn.NewRNG(1)
	fc1 := nn.NewLinear("fc1", 2, 8, true, rng)
	act := &nn.GELU{}
	fc2 := nn.NewLinear("fc2", 8, 2, true, rng)
	params := append(fc1.Params(), fc2.Params()...)
	opt := nn.NewAdamW(params, 0.05, 0.01)
	loss := &nn.CrossEntropy{}

	x := nn.FromData([]float32{1, 1, -1, -1}, 2, 2)
	y := []int{0, 1}
	var l float32
	for step := 0; step < 50; step++ {
		nn.ZeroGrad(params)
		logits := fc2.Forward(act.Forward(fc1.Forward(x)))
		var dlogits *nn.Tensor
		l, dlogits, _ = loss.Forward(logits, y)
		fc1.Backward(act.Backward(fc2.Backward(dlogits)))
		opt.Update()
	}
	fmt.Println(l < 0.01)
	// Output: true
}
