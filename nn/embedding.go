package nn

import (
	"fmt"
	"math/rand/v2"
)

// Embedding maps token ids to rows of a [vocab, dim] table (NAME.weight,
// initialised N(0,1) as PyTorch).
type Embedding struct {
	Vocab, Dim int
	W          *Param
	ids        []int32
	y          *Tensor
}

// NewEmbedding returns an embedding table.
func NewEmbedding(name string, vocab, dim int, rng *rand.Rand) *Embedding {
	e := &Embedding{Vocab: vocab, Dim: dim, W: NewParam(name+".weight", vocab, dim)}
	normalInit(e.W.Data, 1, rng)
	return e
}

// Params returns the table.
func (e *Embedding) Params() []*Param { return []*Param{e.W} }

// Forward looks up ids (shape given by shape, e.g. [B, T]) and returns
// [shape..., dim]. An id outside [0, vocab) is an error.
func (e *Embedding) Forward(ids []int32, shape ...int) (*Tensor, error) {
	if numel(shape) != len(ids) {
		return nil, fmt.Errorf("nn: embedding: %d ids for shape %v", len(ids), shape)
	}
	y := Ensure(&e.y, append(append([]int(nil), shape...), e.Dim)...)
	for i, id := range ids {
		if id < 0 || int(id) >= e.Vocab {
			return nil, fmt.Errorf("nn: embedding %s: id %d at position %d outside vocabulary of %d", e.W.Name, id, i, e.Vocab)
		}
		copy(y.Data[i*e.Dim:(i+1)*e.Dim], e.W.Data[int(id)*e.Dim:(int(id)+1)*e.Dim])
	}
	e.ids = append(e.ids[:0], ids...)
	return y, nil
}

// Backward accumulates dy into the rows of the table that were looked up.
func (e *Embedding) Backward(dy *Tensor) {
	for i, id := range e.ids {
		AddTo(e.W.Grad[int(id)*e.Dim:(int(id)+1)*e.Dim], dy.Data[i*e.Dim:(i+1)*e.Dim])
	}
}
