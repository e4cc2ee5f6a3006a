package jpegdec

const blockSize = 64 // A DCT block is 8x8.

type block [blockSize]int32

// Fixed-point constants of the IDCT (×4096 or ×2048 as the stages use them),
// as poppler's DCT stream and, after it, pdf.js and jpeg-js define them.
const (
	dctCos1    = 4017 // cos(π/16)
	dctSin1    = 799  // sin(π/16)
	dctCos3    = 3406 // cos(3π/16)
	dctSin3    = 2276 // sin(3π/16)
	dctCos6    = 1567 // cos(6π/16)
	dctSin6    = 3784 // sin(6π/16)
	dctSqrt2   = 5793 // √2
	dctSqrt1d2 = 2896 // √2 / 2
)

// pdfIDCT is the integer inverse DCT of Loeffler, Ligtenberg and Moschytz
// ("Practical fast 1-D DCT algorithms with 11 multiplications", ICASSP
// 1989) with the fixed-point stages, rounding and all-zero shortcuts of
// poppler's implementation as jpeg-js 0.4 runs it (rows, then columns, then
// 128 + ((v + 8) >> 4) clamped to 0..255), so that decoded samples equal
// jpeg-js's. b holds dequantised coefficients in natural order and is
// overwritten. int32 arithmetic wraps as JavaScript's Int32Array and >>
// do.
func pdfIDCT(p *block, out *[blockSize]byte) {
	var v0, v1, v2, v3, v4, v5, v6, v7, t int32
	for row := 0; row < 64; row += 8 {
		if p[1+row] == 0 && p[2+row] == 0 && p[3+row] == 0 && p[4+row] == 0 &&
			p[5+row] == 0 && p[6+row] == 0 && p[7+row] == 0 {
			t = (dctSqrt2*p[row] + 512) >> 10
			for k := 0; k < 8; k++ {
				p[row+k] = t
			}
			continue
		}
		// stage 4
		v0 = (dctSqrt2*p[0+row] + 128) >> 8
		v1 = (dctSqrt2*p[4+row] + 128) >> 8
		v2 = p[2+row]
		v3 = p[6+row]
		v4 = (dctSqrt1d2*(p[1+row]-p[7+row]) + 128) >> 8
		v7 = (dctSqrt1d2*(p[1+row]+p[7+row]) + 128) >> 8
		v5 = p[3+row] << 4
		v6 = p[5+row] << 4
		// stage 3
		t = (v0 - v1 + 1) >> 1
		v0 = (v0 + v1 + 1) >> 1
		v1 = t
		t = (v2*dctSin6 + v3*dctCos6 + 128) >> 8
		v2 = (v2*dctCos6 - v3*dctSin6 + 128) >> 8
		v3 = t
		t = (v4 - v6 + 1) >> 1
		v4 = (v4 + v6 + 1) >> 1
		v6 = t
		t = (v7 + v5 + 1) >> 1
		v5 = (v7 - v5 + 1) >> 1
		v7 = t
		// stage 2
		t = (v0 - v3 + 1) >> 1
		v0 = (v0 + v3 + 1) >> 1
		v3 = t
		t = (v1 - v2 + 1) >> 1
		v1 = (v1 + v2 + 1) >> 1
		v2 = t
		t = (v4*dctSin3 + v7*dctCos3 + 2048) >> 12
		v4 = (v4*dctCos3 - v7*dctSin3 + 2048) >> 12
		v7 = t
		t = (v5*dctSin1 + v6*dctCos1 + 2048) >> 12
		v5 = (v5*dctCos1 - v6*dctSin1 + 2048) >> 12
		v6 = t
		// stage 1
		p[0+row] = v0 + v7
		p[7+row] = v0 - v7
		p[1+row] = v1 + v6
		p[6+row] = v1 - v6
		p[2+row] = v2 + v5
		p[5+row] = v2 - v5
		p[3+row] = v3 + v4
		p[4+row] = v3 - v4
	}
	for col := 0; col < 8; col++ {
		if p[1*8+col] == 0 && p[2*8+col] == 0 && p[3*8+col] == 0 && p[4*8+col] == 0 &&
			p[5*8+col] == 0 && p[6*8+col] == 0 && p[7*8+col] == 0 {
			t = (dctSqrt2*p[col] + 8192) >> 14
			for k := 0; k < 8; k++ {
				p[k*8+col] = t
			}
			continue
		}
		// stage 4
		v0 = (dctSqrt2*p[0*8+col] + 2048) >> 12
		v1 = (dctSqrt2*p[4*8+col] + 2048) >> 12
		v2 = p[2*8+col]
		v3 = p[6*8+col]
		v4 = (dctSqrt1d2*(p[1*8+col]-p[7*8+col]) + 2048) >> 12
		v7 = (dctSqrt1d2*(p[1*8+col]+p[7*8+col]) + 2048) >> 12
		v5 = p[3*8+col]
		v6 = p[5*8+col]
		// stage 3
		t = (v0 - v1 + 1) >> 1
		v0 = (v0 + v1 + 1) >> 1
		v1 = t
		t = (v2*dctSin6 + v3*dctCos6 + 2048) >> 12
		v2 = (v2*dctCos6 - v3*dctSin6 + 2048) >> 12
		v3 = t
		t = (v4 - v6 + 1) >> 1
		v4 = (v4 + v6 + 1) >> 1
		v6 = t
		t = (v7 + v5 + 1) >> 1
		v5 = (v7 - v5 + 1) >> 1
		v7 = t
		// stage 2
		t = (v0 - v3 + 1) >> 1
		v0 = (v0 + v3 + 1) >> 1
		v3 = t
		t = (v1 - v2 + 1) >> 1
		v1 = (v1 + v2 + 1) >> 1
		v2 = t
		t = (v4*dctSin3 + v7*dctCos3 + 2048) >> 12
		v4 = (v4*dctCos3 - v7*dctSin3 + 2048) >> 12
		v7 = t
		t = (v5*dctSin1 + v6*dctCos1 + 2048) >> 12
		v5 = (v5*dctCos1 - v6*dctSin1 + 2048) >> 12
		v6 = t
		// stage 1
		p[0*8+col] = v0 + v7
		p[7*8+col] = v0 - v7
		p[1*8+col] = v1 + v6
		p[6*8+col] = v1 - v6
		p[2*8+col] = v2 + v5
		p[5*8+col] = v2 - v5
		p[3*8+col] = v3 + v4
		p[4*8+col] = v3 - v4
	}
	for i, v := range p {
		s := 128 + ((v + 8) >> 4)
		out[i] = uint8(min(max(s, 0), 255))
	}
}
