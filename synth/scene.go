package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tell-project/tell/raster"
)

// Portrait is a photograph to compose into scenes, and where its face is:
// the face's centre and the side of its box in the landmark model's
// convention (brows to chin, about), in the photograph's pixels.
type Portrait struct {
	Name         string
	Img          *raster.RGB
	CX, CY, Side float64
}

// Placed is one portrait's face in a composed image: which portrait, its
// centre and box side in the image's pixels, the in-plane turn it was given
// (degrees, positive clockwise on screen) and whether it was mirrored.
type Placed struct {
	Source       int
	CX, CY, Side float64
	Roll         float64
	Mirror       bool
}

// SceneConfig controls Scene.
type SceneConfig struct {
	W, H             int       // image size (default 1280×720)
	MinFaces         int       // faces per scene, drawn uniformly (default 2..5)
	MaxFaces         int       //
	MinSide, MaxSide float64   // face box side in pixels, drawn log-uniformly (default 24..200)
	Rolls            []float64 // in-plane turns drawn uniformly, degrees (default 0)
	Seed             uint64
}

func (c SceneConfig) withDefaults() SceneConfig {
	if c.W <= 0 || c.H <= 0 {
		c.W, c.H = 1280, 720
	}
	if c.MinFaces <= 0 {
		c.MinFaces = 2
	}
	if c.MaxFaces < c.MinFaces {
		c.MaxFaces = max(c.MinFaces, 5)
	}
	if c.MinSide <= 0 {
		c.MinSide = 24
	}
	if c.MaxSide < c.MinSide {
		c.MaxSide = max(c.MinSide, 200)
	}
	if len(c.Rolls) == 0 {
		c.Rolls = []float64{0}
	}
	return c
}

// headRadius is the radius, in face box sides, of the disc around the face
// that is pasted: the head with some hair and neck.
const headRadius = 0.95

// Scene composes scene number i of a set: a background (one of bgs, cropped
// and scaled to fill the image; a grey gradient when bgs is empty) with
// portraits' heads pasted on it, each a feathered disc around its face,
// scaled, turned and mirrored at random, no two overlapping and every one
// whole in the image. Scenes are a function of (ps, bgs, cfg, i): the same
// arguments give the same image. The faces are returned in the order
// pasted.
//
// Limits: the heads are 2-D pastes (the turns are in the image plane;
// turned-away faces come only from portraits that are turned); edges are
// feathered, not matted, so a disc of the portrait's own background comes
// along.
func Scene(ps []Portrait, bgs []*raster.RGB, cfg SceneConfig, i int) (*raster.RGB, []Placed, error) {
	cfg = cfg.withDefaults()
	if len(ps) == 0 {
		return nil, nil, fmt.Errorf("synth: scene: no portraits")
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
	out := raster.NewRGB(cfg.W, cfg.H)
	if len(bgs) > 0 {
		fill(out, bgs[rng.IntN(len(bgs))], rng)
	} else {
		for y := 0; y < out.H; y++ {
			for x := 0; x < out.W; x++ {
				v := uint8(80 + 100*(x+y)/(out.W+out.H))
				p := out.Pix[y*out.Stride+3*x:]
				p[0], p[1], p[2] = v, v, v
			}
		}
	}
	n := cfg.MinFaces + rng.IntN(cfg.MaxFaces-cfg.MinFaces+1)
	var placed []Placed
	for tries := 0; len(placed) < n && tries < 200*n; tries++ {
		side := cfg.MinSide * math.Exp(rng.Float64()*math.Log(cfg.MaxSide/cfg.MinSide))
		r := headRadius * side
		if 2*r >= float64(min(cfg.W, cfg.H)) {
			continue
		}
		p := Placed{
			Source: rng.IntN(len(ps)),
			CX:     r + rng.Float64()*(float64(cfg.W)-2*r),
			CY:     r + rng.Float64()*(float64(cfg.H)-2*r),
			Side:   side,
			Roll:   cfg.Rolls[rng.IntN(len(cfg.Rolls))],
			Mirror: rng.IntN(2) == 1,
		}
		ok := true
		for _, q := range placed {
			if math.Hypot(p.CX-q.CX, p.CY-q.CY) < r+headRadius*q.Side {
				ok = false
				break
			}
		}
		if ok {
			placed = append(placed, p)
		}
	}
	for _, p := range placed {
		Paste(out, &ps[p.Source], p, 1)
	}
	return out, placed, nil
}

// Paste draws portrait po's head onto dst as p places it: a disc of
// headRadius face sides around the face, its outer tenth feathered, its
// pixels the mean of up to 4×4 samples of the portrait (so that a large
// shrink does not alias). opacity scales the disc's alpha (1: opaque).
func Paste(dst *raster.RGB, po *Portrait, p Placed, opacity float64) {
	k := p.Side / po.Side // image pixels per portrait pixel
	r := headRadius * p.Side
	sin, cos := math.Sincos(p.Roll * math.Pi / 180)
	ss := min(4, max(1, int(math.Ceil(1/k)))) // samples per axis per pixel
	x0, x1 := max(0, int(p.CX-r)), min(dst.W-1, int(math.Ceil(p.CX+r)))
	y0, y1 := max(0, int(p.CY-r)), min(dst.H-1, int(math.Ceil(p.CY+r)))
	src := po.Img
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			dx, dy := float64(x)+0.5-p.CX, float64(y)+0.5-p.CY
			d := math.Hypot(dx, dy)
			if d >= r {
				continue
			}
			a := math.Min(1, (r-d)/(0.1*r)) * opacity
			var acc [3]float64
			cnt := 0
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					ex := dx + (float64(sx)+0.5)/float64(ss) - 0.5
					ey := dy + (float64(sy)+0.5)/float64(ss) - 0.5
					// Undo the turn (clockwise on screen with y down), then
					// the scale and the mirror.
					ux, uy := (cos*ex+sin*ey)/k, (-sin*ex+cos*ey)/k
					if p.Mirror {
						ux = -ux
					}
					qx, qy := po.CX+ux-0.5, po.CY+uy-0.5
					if qx < 0 || qy < 0 || qx > float64(src.W-1) || qy > float64(src.H-1) {
						continue
					}
					c := bilinearRGB(src, qx, qy)
					for j := range acc {
						acc[j] += c[j]
					}
					cnt++
				}
			}
			if cnt == 0 {
				continue
			}
			px := dst.Pix[y*dst.Stride+3*x : y*dst.Stride+3*x+3]
			for j := range px {
				v := float64(px[j])*(1-a) + a*acc[j]/float64(cnt)
				px[j] = uint8(math.Min(255, math.Max(0, math.Round(v))))
			}
		}
	}
}

func bilinearRGB(img *raster.RGB, x, y float64) [3]float64 {
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, img.W-1), min(y0+1, img.H-1)
	fx, fy := x-float64(x0), y-float64(y0)
	var out [3]float64
	for c := 0; c < 3; c++ {
		a := float64(img.Pix[y0*img.Stride+3*x0+c])
		b := float64(img.Pix[y0*img.Stride+3*x1+c])
		d := float64(img.Pix[y1*img.Stride+3*x0+c])
		e := float64(img.Pix[y1*img.Stride+3*x1+c])
		out[c] = (a+(b-a)*fx)*(1-fy) + (d+(e-d)*fx)*fy
	}
	return out
}

// fill covers dst with a random crop of bg scaled to fill it.
func fill(dst, bg *raster.RGB, rng *rand.Rand) {
	k := math.Max(float64(dst.W)/float64(bg.W), float64(dst.H)/float64(bg.H)) // dst px per bg px
	cw, ch := float64(dst.W)/k, float64(dst.H)/k
	ox := rng.Float64() * (float64(bg.W) - cw)
	oy := rng.Float64() * (float64(bg.H) - ch)
	for y := 0; y < dst.H; y++ {
		for x := 0; x < dst.W; x++ {
			qx := math.Min(float64(bg.W-1), math.Max(0, ox+(float64(x)+0.5)/k-0.5))
			qy := math.Min(float64(bg.H-1), math.Max(0, oy+(float64(y)+0.5)/k-0.5))
			c := bilinearRGB(bg, qx, qy)
			p := dst.Pix[y*dst.Stride+3*x:]
			p[0], p[1], p[2] = uint8(c[0]+0.5), uint8(c[1]+0.5), uint8(c[2]+0.5)
		}
	}
}
