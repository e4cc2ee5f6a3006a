package nn

import "math"

// MeanTokens averages x [B, T, C] over tokens to [B, C].
type MeanTokens struct {
	b, t  int
	y, dx *Tensor
}

// Forward returns the token mean.
func (m *MeanTokens) Forward(x *Tensor) *Tensor {
	B, T, C := x.Shape[0], x.Shape[1], x.Shape[2]
	m.b, m.t = B, T
	y := Ensure(&m.y, B, C)
	clear(y.Data)
	inv := 1 / float32(T)
	for b := 0; b < B; b++ {
		out := y.Data[b*C : (b+1)*C]
		for t := 0; t < T; t++ {
			AddTo(out, x.Data[(b*T+t)*C:(b*T+t+1)*C])
		}
		Scale(out, inv)
	}
	return y
}

// Backward spreads dy [B, C] evenly over the tokens.
func (m *MeanTokens) Backward(dy *Tensor) *Tensor {
	B, T, C := m.b, m.t, dy.Dim()
	dx := Ensure(&m.dx, B, T, C)
	inv := 1 / float32(T)
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			row := dx.Data[(b*T+t)*C : (b*T+t+1)*C]
			for j := range row {
				row[j] = dy.Data[b*C+j] * inv
			}
		}
	}
	return dx
}

// MaxTokens takes the maximum of x [B, T, C] over tokens to [B, C]; ties go
// to the first token.
type MaxTokens struct {
	b, t  int
	arg   []int32
	y, dx *Tensor
}

// Forward returns the token maximum.
func (m *MaxTokens) Forward(x *Tensor) *Tensor {
	B, T, C := x.Shape[0], x.Shape[1], x.Shape[2]
	m.b, m.t = B, T
	y := Ensure(&m.y, B, C)
	if cap(m.arg) < B*C {
		m.arg = make([]int32, B*C)
	}
	m.arg = m.arg[:B*C]
	for b := 0; b < B; b++ {
		for j := 0; j < C; j++ {
			best, at := float32(math.Inf(-1)), int32(0)
			for t := 0; t < T; t++ {
				if v := x.Data[(b*T+t)*C+j]; v > best {
					best, at = v, int32(t)
				}
			}
			y.Data[b*C+j], m.arg[b*C+j] = best, at
		}
	}
	return y
}

// Backward routes dy to the arg-max tokens.
func (m *MaxTokens) Backward(dy *Tensor) *Tensor {
	B, T, C := m.b, m.t, dy.Dim()
	dx := Ensure(&m.dx, B, T, C)
	clear(dx.Data)
	for b := 0; b < B; b++ {
		for j := 0; j < C; j++ {
			dx.Data[(b*T+int(m.arg[b*C+j]))*C+j] = dy.Data[b*C+j]
		}
	}
	return dx
}

// Token selects token Index of x [B, T, C] (the class token when 0) to [B, C].
type Token struct {
	Index int
	b, t  int
	y, dx *Tensor
}

// Forward returns x[:, Index, :].
func (s *Token) Forward(x *Tensor) *Tensor {
	B, T, C := x.Shape[0], x.Shape[1], x.Shape[2]
	s.b, s.t = B, T
	y := Ensure(&s.y, B, C)
	for b := 0; b < B; b++ {
		copy(y.Data[b*C:(b+1)*C], x.Data[(b*T+s.Index)*C:])
	}
	return y
}

// Backward returns dx with dy at token Index and zeros elsewhere.
func (s *Token) Backward(dy *Tensor) *Tensor {
	B, T, C := s.b, s.t, dy.Dim()
	dx := Ensure(&s.dx, B, T, C)
	clear(dx.Data)
	for b := 0; b < B; b++ {
		copy(dx.Data[(b*T+s.Index)*C:(b*T+s.Index+1)*C], dy.Data[b*C:(b+1)*C])
	}
	return dx
}
