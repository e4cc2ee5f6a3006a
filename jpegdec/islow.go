package jpegdec

import (
	"image"
	"io"
)

// DecodeLibjpeg reads a JPEG image as libjpeg decodes it with its default
// settings (what dlib's load_image, Pillow and OpenCV get): Go's entropy
// decoding, then libjpeg's accurate integer inverse DCT (JDCT_ISLOW,
// jidctint.c: the Loeffler–Ligtenberg–Moschytz IDCT with 13-bit constants,
// two extra bits between passes and libjpeg's range limiting), so that the
// samples equal libjpeg's. It returns an *image.Gray or an *image.YCbCr with
// the chroma planes at their coded size: raster.FromImage upsamples them
// with libjpeg's "fancy" filter and converts with libjpeg's fixed-point
// YCbCr→RGB. A frame of more than maxPixels pixels is refused before
// anything is allocated for it (maxPixels <= 0: no limit).
//
// Limits: an Adobe-marked RGB or a four-component (CMYK, YCCK) image is an
// UnsupportedError (image/jpeg reads those); a progressive image is decoded
// from its complete coefficients, as libjpeg does when it reads the whole
// file before output.
func DecodeLibjpeg(r io.Reader, maxPixels int) (image.Image, error) {
	d := decoder{maxPixels: maxPixels, idct: islowIDCT}
	img, err := d.decode(r, false)
	if err != nil {
		return nil, err
	}
	if d.blackPix != nil || d.nComp == 4 {
		return nil, UnsupportedError("four-component (CMYK/YCCK) JPEG")
	}
	if d.nComp == 3 && d.adobeTransformValid && d.adobeTransform == 0 {
		return nil, UnsupportedError("Adobe RGB JPEG")
	}
	return img, nil
}

// Fixed-point constants of jidctint.c: FIX(x) = round(x * 2^13).
const (
	islowConstBits = 13
	islowPass1Bits = 2

	fix0298631336 = 2446
	fix0390180644 = 3196
	fix0541196100 = 4433
	fix0765366865 = 6270
	fix0899976223 = 7373
	fix1175875602 = 9633
	fix1501321110 = 12299
	fix1847759065 = 15137
	fix1961570560 = 16069
	fix2053119869 = 16819
	fix2562915447 = 20995
	fix3072711026 = 25172
)

// islowRange is libjpeg's range limit after the IDCT: the value is masked
// to 10 bits (RANGE_MASK), read as -640..383 and moved to 0..255 around
// CENTERJSAMPLE, as its range_limit table does.
func islowRange(x int32) byte {
	v := x & 1023
	if v >= 384 {
		v -= 1024
	}
	v += 128
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return byte(v)
}

// islowIDCT is jpeg_idct_islow: columns first (rounded to PASS1_BITS extra
// bits), then rows, with libjpeg's shortcuts for columns and rows whose AC
// terms are all zero (they give the same values as the full computation).
// b holds dequantised coefficients in natural order.
func islowIDCT(b *block, out *[blockSize]byte) {
	var ws [blockSize]int32
	for c := 0; c < 8; c++ {
		if b[8+c] == 0 && b[16+c] == 0 && b[24+c] == 0 && b[32+c] == 0 &&
			b[40+c] == 0 && b[48+c] == 0 && b[56+c] == 0 {
			dc := b[c] << islowPass1Bits
			for r := 0; r < 8; r++ {
				ws[8*r+c] = dc
			}
			continue
		}
		var o [8]int32
		islow1D(b[c], b[8+c], b[16+c], b[24+c], b[32+c], b[40+c], b[48+c], b[56+c], &o)
		const n = islowConstBits - islowPass1Bits
		for r := 0; r < 8; r++ {
			ws[8*r+c] = (o[r] + 1<<(n-1)) >> n
		}
	}
	for r := 0; r < 64; r += 8 {
		w := ws[r : r+8 : r+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			const n = islowPass1Bits + 3
			v := islowRange((w[0] + 1<<(n-1)) >> n)
			for k := 0; k < 8; k++ {
				out[r+k] = v
			}
			continue
		}
		var o [8]int32
		islow1D(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], &o)
		const n = islowConstBits + islowPass1Bits + 3
		for k := 0; k < 8; k++ {
			out[r+k] = islowRange((o[k] + 1<<(n-1)) >> n)
		}
	}
}

// islow1D is one 8-point pass of jpeg_idct_islow before its descaling:
// outputs scaled by 2^CONST_BITS.
func islow1D(i0, i1, i2, i3, i4, i5, i6, i7 int32, o *[8]int32) {
	// Even part.
	z2, z3 := i2, i6
	z1 := (z2 + z3) * fix0541196100
	tmp2 := z1 + z3*(-fix1847759065)
	tmp3 := z1 + z2*fix0765366865
	tmp0 := (i0 + i4) << islowConstBits
	tmp1 := (i0 - i4) << islowConstBits
	tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
	tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
	// Odd part.
	tmp0, tmp1, tmp2, tmp3 = i7, i5, i3, i1
	z1 = tmp0 + tmp3
	z2 = tmp1 + tmp2
	z3 = tmp0 + tmp2
	z4 := tmp1 + tmp3
	z5 := (z3 + z4) * fix1175875602
	tmp0 *= fix0298631336
	tmp1 *= fix2053119869
	tmp2 *= fix3072711026
	tmp3 *= fix1501321110
	z1 *= -fix0899976223
	z2 *= -fix2562915447
	z3 *= -fix1961570560
	z4 *= -fix0390180644
	z3 += z5
	z4 += z5
	tmp0 += z1 + z3
	tmp1 += z2 + z4
	tmp2 += z2 + z3
	tmp3 += z1 + z4
	o[0], o[7] = tmp10+tmp3, tmp10-tmp3
	o[1], o[6] = tmp11+tmp2, tmp11-tmp2
	o[2], o[5] = tmp12+tmp1, tmp12-tmp1
	o[3], o[4] = tmp13+tmp0, tmp13-tmp0
}
