package nn

import "math"

// The Go twins of the vectorised GELU and exp kernels (gelu_amd64.s): the
// same constants, the same fused multiply–adds (fmaf) and the same
// round-to-even range reduction, so that a slice's scalar tail, the pure-Go
// build (-tags purego, TELL_NN_NOASM=1) and the AVX2 body give the same bits
// for every element. A value then never depends on where a chunk of
// parallelFor or a block of rows happened to start: a block computing only
// some rows (Block.Queries) matches the full block's rows exactly.

const (
	vmExpMin = -87
	vmLog2e  = 1.44269504088896341
	vmLn2Hi  = 0.693359375
	vmLn2Lo  = -2.12194440e-4
)

// expPolyFMA returns exp(t) for t ≥ −87, as expAVX2 computes it.
func expPolyFMA(t float32) float32 {
	k := float32(math.RoundToEven(float64(t * vmLog2e)))
	r := fmaf(-k, vmLn2Hi, t)
	r = fmaf(-k, vmLn2Lo, r)
	p := float32(1.9875691500e-4)
	p = fmaf(r, p, 1.3981999507e-3)
	p = fmaf(r, p, 8.3334519073e-3)
	p = fmaf(r, p, 4.1665795894e-2)
	p = fmaf(r, p, 1.6666665459e-1)
	p = fmaf(r, p, 5.0000001201e-1)
	p *= r
	e := fmaf(r, p, r+1)
	return math.Float32frombits(math.Float32bits(e) + uint32(int32(k)<<23))
}

// expGo is expInPlace's portable body: x[i] = exp(max(x[i], −87)).
func expGo(x []float32) {
	for i, v := range x {
		x[i] = expPolyFMA(max(v, vmExpMin))
	}
}

// geluGo is the portable GELU: y = x·Φ(x), d = Φ(x) + x·φ(x), with Φ from
// erfFMA and φ from expPolyFMA.
func geluGo(x, y, d []float32) {
	for i, v := range x {
		cdf := fmaf(0.5, erfFMA(v*invSqrt2), 0.5)
		y[i] = v * cdf
		t := max(v*v*-0.5, vmExpMin)
		phi := expPolyFMA(t) * invSqrt2Pi
		d[i] = fmaf(v, phi, cdf)
	}
}

// erfFMA is the error function (the rational approximation on [−4, 4] of
// XLA/Eigen, accurate to a few ulp) as geluAVX2 evaluates it.
func erfFMA(x float32) float32 {
	z := min(max(x, -4), 4)
	z2 := z * z
	p := float32(-2.72614225801306e-10)
	p = fmaf(z2, p, 2.77068142495902e-08)
	p = fmaf(z2, p, -2.10102402082508e-06)
	p = fmaf(z2, p, -5.69250639462346e-05)
	p = fmaf(z2, p, -7.34990630326855e-04)
	p = fmaf(z2, p, -2.95459980854025e-03)
	p = fmaf(z2, p, -1.60960333262415e-02)
	p *= z
	q := float32(-1.45660718464996e-05)
	q = fmaf(z2, q, -2.13374055278905e-04)
	q = fmaf(z2, q, -1.68282697438203e-03)
	q = fmaf(z2, q, -7.37332916720468e-03)
	q = fmaf(z2, q, -1.42647390514189e-02)
	return p / q
}

// fmaf is x·y+z rounded once to float32, as VFMADD…PS computes it. The
// float64 product of two float32 values is exact; the float64 sum is
// rounded to odd (its exact error from TwoSum decides the last bit), after
// which one rounding to float32 is correct: float32(math.FMA(...)) would
// round twice and differ from the hardware in rare halfway cases.
func fmaf(x, y, z float32) float32 {
	a, b := float64(x)*float64(y), float64(z)
	s := a + b
	bb := s - a
	if e := (a - (s - bb)) + (b - bb); e != 0 {
		if u := math.Float64bits(s); u&1 == 0 {
			if (e > 0) == (s > 0) {
				u++
			} else {
				u--
			}
			s = math.Float64frombits(u)
		}
	}
	return float32(s)
}
