package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"

	"github.com/tell-project/tell/atomicfile"
	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/spot"
)

// single measures one image against the canonical neutral shape and
// reports it as one event covering the frame.
func (r *run) single(ctx context.Context, src Source) error {
	g, err := src.Next(ctx)
	if err != nil {
		return err
	}
	if err := r.openOutputs(); err != nil {
		return err
	}
	r.res.Frames = 1
	lm, conf, ok, err := landmarksConfidence(r.opt.Landmarker, g)
	if err != nil {
		return fmt.Errorf("face detection: %w", err)
	}
	var m au.Measurement
	n := len(au.AUs)
	if !ok {
		r.writeRow(0, false, &m, g, 0)
		r.tl.Add(make([]float32, n), 0, false)
		return fmt.Errorf("%w in the image", ErrNoFace)
	}
	ns, has := r.opt.Landmarker.(NeutralShaper)
	if !has {
		return fmt.Errorf("analyze: the landmarker has no neutral shape to measure a single image against")
	}
	if err := au.MeasureShape(lm, ns.NeutralShape(), &m); err != nil {
		return err
	}
	r.res.Tracked = 1
	r.writeRow(0, true, &m, g, conf)
	r.tl.Add(m.Intensity, m.Expression, true)
	r.ring = []frameRec{{both: m.Intensity, right: m.Right, left: m.Left, ok: false}}
	r.res.Notes = append(r.res.Notes, "single image: AUs measured against the landmark model's neutral mean shape, not the person's own neutral face")
	r.event(ctx, spot.Interval{Kind: "still"}, 0)
	if len(r.res.Events) > 0 {
		r.res.Events[0].Kind = "still"
		r.rep.Events[0].Kind = "still"
	}
	return nil
}

// eventFaces are the images of one event for the reasoner and the report.
type eventFaces struct {
	onset, apex *image.Gray
	flow        *image.RGBA
}

// eventImages turns onset and apex crops into images and the TV-L1 flow
// between them into a colour overlay on the apex face.
func (r *run) eventImages(ctx context.Context, onset, apex []uint8, size int) eventFaces {
	var f eventFaces
	f.onset = &image.Gray{Pix: append([]uint8(nil), onset...), Stride: size, Rect: image.Rect(0, 0, size, size)}
	f.apex = &image.Gray{Pix: append([]uint8(nil), apex...), Stride: size, Rect: image.Rect(0, 0, size, size)}
	a, b := raster.FromImage(f.onset), raster.FromImage(f.apex)
	if r.overlay == nil {
		tv, err := flow.NewTVL1(flow.Fast())
		if err != nil {
			return f
		}
		r.overlay = tv
	}
	fl, err := r.overlay.Compute(ctx, a, b)
	if err != nil {
		return f
	}
	var peak float32
	for i := range fl.U {
		peak = max(peak, float32(math.Hypot(float64(fl.U[i]), float64(fl.V[i]))))
	}
	wheel, err := flow.ColorWheel(fl, max(peak, 0.5))
	if err != nil {
		return f
	}
	// Blend: colour where the face moved, the apex face elsewhere.
	out := image.NewRGBA(wheel.Rect)
	for i := 0; i < size*size; i++ {
		mag := float64(math.Hypot(float64(fl.U[i]), float64(fl.V[i])) / float64(max(peak, 0.5)))
		alpha := math.Min(1, mag*1.5)
		g := float64(apex[i])
		for c := 0; c < 3; c++ {
			out.Pix[4*i+c] = uint8(alpha*float64(wheel.Pix[4*i+c]) + (1-alpha)*g + 0.5)
		}
		out.Pix[4*i+3] = 255
	}
	f.flow = out
	return f
}

func (f eventFaces) list() []image.Image {
	out := []image.Image{f.onset, f.apex}
	if f.flow != nil {
		out = append(out, f.flow)
	}
	return out
}

func (f eventFaces) png() (onset, apex, fl []byte) {
	enc := func(img image.Image) []byte {
		if img == nil {
			return nil
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			return nil
		}
		return b.Bytes()
	}
	var flowImg image.Image
	if f.flow != nil {
		flowImg = f.flow
	}
	return enc(f.onset), enc(f.apex), enc(flowImg)
}

func writeJSON(path string, v any) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}
