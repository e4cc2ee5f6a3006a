package analyze

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"sync"

	"github.com/tell-project/tell/au"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/facs"
	"github.com/tell-project/tell/flow"
	"github.com/tell-project/tell/gaze"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/report"
	"github.com/tell-project/tell/spot"
	"github.com/tell-project/tell/video"
)

// single measures one image and reports each face as one event covering
// the frame. Face 0's AUs are measured against the --neutral image of the
// same person when there is one, else (and every other face's) against
// the landmark model's mean shape: then they are uncalibrated indications
// (how this face differs from an average face, identity included),
// reported but not weighed when an appearance net reads the expression.
func (r *run) single(ctx context.Context, src Source) error {
	r.lane.Enter(profile.Decode)
	g, err := src.Next(ctx)
	if err != nil {
		return err
	}
	r.lane.Enter(profile.Writing)
	if err := r.openOutputs(); err != nil {
		return err
	}
	r.addPreview(r.lane, 0, g, previewRGB(src))
	r.res.Frames = 1
	found, err := r.stillFaces(src, g)
	if err != nil {
		return fmt.Errorf("face detection: %w", err)
	}
	f0, err := r.newFaceRun(0, 1, 0)
	if err != nil {
		return err
	}
	r.faces = []*faceRun{f0}
	r.rep.Timeline = f0.tl
	n := au.NumAUs
	if len(found) == 0 {
		var m au.Measurement
		f0.writeRow(r.lane, 0, false, &m, g, 0, nil, nil)
		f0.tl.Add(make([]float32, n), 0, false)
		return fmt.Errorf("%w in the image", ErrNoFace)
	}
	neutral, err := r.neutralReference()
	if err != nil {
		return err
	}
	mean := neutral
	if r.opt.Neutral != "" && len(found) > 1 {
		if mean, err = r.meanShape(); err != nil {
			return err
		}
	}
	for i, fd := range found {
		f := f0
		if i > 0 {
			if f, err = r.newFaceRun(i, 1, 0); err != nil {
				return err
			}
			r.faces = append(r.faces, f)
		}
		ref := neutral
		if i > 0 {
			ref = mean
		}
		var m au.Measurement
		r.lane.Enter(profile.AUs)
		if err := au.MeasureShape(fd.lm, ref, &m); err != nil {
			return err
		}
		rec := frameRec{both: m.Intensity, right: m.Right, left: m.Left}
		r.lane.Enter(profile.Appearance)
		rgb := frameRGB(src, g)
		rec.probs, rec.hasProbs = r.readAppearance(rgb, g, &fd.lm)
		r.lane.Enter(profile.Gaze)
		var gz *gaze.Result
		if res, ok := r.readGaze(rgb, g, &fd.lm); ok {
			gz = &res
		}
		r.lane.Enter(profile.Writing)
		f.writeRow(r.lane, 0, true, &m, g, fd.conf, rec.probsOrNil(), gz)
		view := stillView(g, fd.lm, &m)
		if i == 0 {
			r.rep.Still = view
		} else {
			r.rep.Faces = append(r.rep.Faces, report.Face{ID: i, Still: view})
		}
		f.tl.Add(m.Intensity, m.Expression, true)
		f.tl.AddExpression(rec.probsSlice())
		f.ring = []frameRec{rec}
		f.seenFrames = 1
	}
	r.res.Tracked = 1
	switch {
	case r.opt.Neutral != "":
		r.res.Notes = append(r.res.Notes, "single image: AUs measured against the neutral face in "+r.opt.Neutral+" (taken to be the same person)")
	case r.opt.Appearance != nil:
		r.res.Notes = append(r.res.Notes, "single image: AUs measured against the landmark model's mean shape are uncalibrated indications (this face's differences from an average face, identity included), not measurements: reported, not weighed in the label; give --neutral IMAGE of the same person for real AU intensities")
	default:
		r.res.Notes = append(r.res.Notes, "single image: AUs measured against the landmark model's mean shape are uncalibrated indications (this face's differences from an average face, identity included), not measurements, and without an appearance model the label rests on them alone, a weak basis; give --neutral IMAGE of the same person, and install the appearance models")
	}
	if len(found) > 1 {
		note := fmt.Sprintf("%d faces, face_id 0 to %d (face 0 is the one a one-face analysis takes; the others left to right)", len(found), len(found)-1)
		if r.opt.Neutral != "" {
			note += "; --neutral is face 0's, the others are measured against the landmark model's mean shape"
		}
		r.res.Notes = append(r.res.Notes, note)
	}
	r.lane.Enter(profile.Scoring)
	for _, f := range r.faces {
		f.event(ctx, spot.Interval{Kind: "still"}, 0)
		if k := len(r.res.Events); k > 0 && r.res.Events[k-1].FaceID == f.id {
			r.res.Events[k-1].Kind = "still"
			r.rep.Events[k-1].Kind = "still"
		}
	}
	return nil
}

// stillFace is a face found in a still image.
type stillFace struct {
	lm   [68][2]float32
	conf float32
}

// stillFaces finds the faces of a still: the Landmarker's face first (as
// a one-face analysis finds it), then, with Options.Faces, BlazeFace's
// other faces, left to right, at most Options.MaxFaces in all (the
// largest).
func (r *run) stillFaces(src Source, g *raster.Gray) ([]stillFace, error) {
	var out []stillFace
	lm, conf, ok, err := r.findFace(g, nil)
	if err != nil {
		return nil, err
	}
	if ok {
		out = append(out, stillFace{lm, conf})
	}
	if r.opt.Faces == nil || r.opt.MaxFaces <= 1 {
		return out, nil
	}
	var rgb *raster.RGB
	if cs, isColour := src.(ColorSource); isColour {
		if c := cs.RGB(); c != nil && c.W == g.W && c.H == g.H {
			rgb = c
		}
	}
	dets, err := r.opt.Faces.Detect(g, rgb)
	if err != nil {
		return nil, err
	}
	var others []face.Found
	for _, d := range dets {
		if ok && boxIoU(lmBox(&lm), blazeBox(d)) > 0.3 {
			continue
		}
		if ok {
			b := lmBox(&lm)
			cx, cy := (d.Box.X0+d.Box.X1)/2, (d.Box.Y0+d.Box.Y1)/2
			if cx >= b[0] && cx <= b[2] && cy >= b[1] && cy <= b[3] {
				continue
			}
		}
		others = append(others, r.opt.Faces.Fit(g, d))
	}
	for _, fd := range face.Arrange(others, r.opt.MaxFaces-len(out)) {
		out = append(out, stillFace{shapeLandmarks(&fd.Shape), fd.Score})
	}
	return out, nil
}

// meanShape is the landmark model's mean shape, when the Landmarker has
// one.
func (r *run) meanShape() ([68][2]float32, error) {
	ns, has := r.opt.Landmarker.(NeutralShaper)
	if !has {
		return [68][2]float32{}, fmt.Errorf("analyze: the landmarker has no neutral shape to measure a face against")
	}
	return ns.NeutralShape(), nil
}

// neutralReference is the shape a still is measured against: the landmarks
// of the --neutral image, else the landmark model's mean shape.
func (r *run) neutralReference() ([68][2]float32, error) {
	if r.opt.Neutral == "" {
		ns, has := r.opt.Landmarker.(NeutralShaper)
		if !has {
			return [68][2]float32{}, fmt.Errorf("analyze: the landmarker has no neutral shape to measure a single image against; give --neutral")
		}
		return ns.NeutralShape(), nil
	}
	g, err := video.ReadGray(r.opt.Neutral, r.opt.MaxPixels)
	if err != nil {
		return [68][2]float32{}, fmt.Errorf("--neutral: %w", err)
	}
	lm, ok, err := r.opt.Landmarker.Landmarks(g)
	if err != nil {
		return lm, fmt.Errorf("--neutral %s: face detection: %w", r.opt.Neutral, err)
	}
	if !ok {
		return lm, fmt.Errorf("--neutral %s: %w", r.opt.Neutral, ErrNoFace)
	}
	return lm, nil
}

// eventFaces are the images of one event for the reasoners: onset and
// apex crops (cropSize), the TV-L1 flow between them as a colour overlay on
// the apex face, and the flow itself.
type eventFaces struct {
	onset, apex *image.Gray
	flow        *image.RGBA
	field       *flow.Field
	peak        float32 // largest flow length, crop pixels
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
	for i := range fl.U {
		f.peak = max(f.peak, float32(math.Hypot(float64(fl.U[i]), float64(fl.V[i]))))
	}
	f.field = fl
	f.flow = flowOverlay(fl, apex, max(f.peak, 0.5))
	return f
}

// flowOverlay blends the Middlebury colours of fl over the grey face (same
// size): colour where the face moved, the face elsewhere; full colour at
// a length of peak.
func flowOverlay(fl *flow.Field, face []uint8, peak float32) *image.RGBA {
	wheel, err := flow.ColorWheel(fl, peak)
	if err != nil {
		return nil
	}
	out := image.NewRGBA(wheel.Rect)
	for i := range fl.U {
		mag := math.Hypot(float64(fl.U[i]), float64(fl.V[i])) / float64(peak)
		alpha := math.Min(1, mag*1.5)
		g := float64(face[i])
		for c := 0; c < 3; c++ {
			out.Pix[4*i+c] = uint8(alpha*float64(wheel.Pix[4*i+c]) + (1-alpha)*g + 0.5)
		}
		out.Pix[4*i+3] = 255
	}
	return out
}

func (f eventFaces) list() []image.Image {
	out := []image.Image{f.onset, f.apex}
	if f.flow != nil {
		out = append(out, f.flow)
	}
	return out
}

// reportFaces are an event's pictures for the report, PNG-encoded, at the
// face's native resolution.
type reportFaces struct {
	onset, apex, diff, flow []byte
	gain, peak              float64
}

// nativeFaces makes the report's pictures from native crops (side n):
// onset, apex, their difference amplified so that the strongest changes
// (the 99.5th percentile) reach ±100 grey levels (gain 1–20), and the flow
// of the reasoners' crops resampled onto the native apex face.
func nativeFaces(onset, apex []uint8, n int, small eventFaces) reportFaces {
	var out reportFaces
	gray := func(pix []uint8) *image.Gray {
		return &image.Gray{Pix: pix, Stride: n, Rect: image.Rect(0, 0, n, n)}
	}
	out.onset, out.apex = encodePNG(gray(onset)), encodePNG(gray(apex))
	var hist [256]int
	for i := range apex {
		d := int(apex[i]) - int(onset[i])
		hist[min(255, max(d, -d))]++
	}
	p, want := 0, int(math.Ceil(0.995*float64(len(apex))))
	for acc := 0; p < 255; p++ {
		if acc += hist[p]; acc >= want {
			break
		}
	}
	out.gain = math.Round(math.Max(1, math.Min(20, 100/math.Max(float64(p), 1))))
	diff := make([]uint8, len(apex))
	for i := range apex {
		d := 128 + out.gain*float64(int(apex[i])-int(onset[i]))
		diff[i] = uint8(math.Max(0, math.Min(255, math.Round(d))))
	}
	out.diff = encodePNG(gray(diff))
	if small.field != nil {
		k := float32(n) / float32(small.field.W)
		big := resampleField(small.field, n, k)
		peak := max(small.peak, 0.5) * k
		if img := flowOverlay(big, apex, peak); img != nil {
			out.flow = encodePNG(img)
			out.peak = math.Round(float64(peak)*100) / 100
		}
	}
	return out
}

// resampleField resizes a square field to n×n bilinearly, lengths times k.
func resampleField(f *flow.Field, n int, k float32) *flow.Field {
	out := flow.NewField(n, n)
	u, v := &raster.Gray{W: f.W, H: f.H, Stride: f.W, Pix: f.U}, &raster.Gray{W: f.W, H: f.H, Stride: f.W, Pix: f.V}
	s := float32(f.W) / float32(n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			sx, sy := (float32(x)+0.5)*s-0.5, (float32(y)+0.5)*s-0.5
			out.U[y*n+x] = k * u.Bilinear(sx, sy)
			out.V[y*n+x] = k * v.Bilinear(sx, sy)
		}
	}
	return out
}

// encodePNG encodes a report picture. The pictures are small crops
// embedded once in the report, encoded per event and per still: flate's
// fastest level takes half the time of the default for a few per cent in
// size on face crops, and the encoder's buffers (0.8 MiB of compressor
// state per image) are reused.
func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := pngEncoder.Encode(&b, img); err != nil {
		return nil
	}
	return b.Bytes()
}

var pngEncoder = &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers{}}

// pngBuffers is a png.EncoderBufferPool on a sync.Pool: safe for the
// concurrent runs of a server.
type pngBuffers struct{ pool sync.Pool }

func (p *pngBuffers) Get() *png.EncoderBuffer {
	b, _ := p.pool.Get().(*png.EncoderBuffer)
	return b
}

func (p *pngBuffers) Put(b *png.EncoderBuffer) { p.pool.Put(b) }

// flowKeyPNG is the report's colour-wheel key, the same picture in every
// report: encoded once per process (it cost as much as the rest of a still
// image's report). Callers must not modify it.
var flowKeyPNG = sync.OnceValue(func() []byte { return encodePNG(flow.ColorWheelKey(112)) })

// allocNative fixes the side of the report's native crops from the
// reference face's inter-ocular distance and gives every window frame its
// buffer (once per run).
func (r *faceRun) allocNative(iod float64) {
	if r.native > 0 || len(r.ring) == 0 {
		return
	}
	side := int(math.Round(2.4*iod/2)) * 2
	side = min(side, maxNativeSide, int(math.Sqrt(float64(r.nativeBudget)/float64(len(r.ring)))))
	if side < 16 {
		return
	}
	r.native = side
	for i := range r.ring {
		r.ring[i].native = make([]uint8, side*side)
	}
}

// stillView is the report's picture of a single image: the face at its
// resolution in the image (the landmarks' box with a margin, at most
// 512 px), its landmarks, and every AU's intensity.
func stillView(g *raster.Gray, lm [68][2]float32, m *au.Measurement) *report.Still {
	minX, minY, maxX, maxY := float32(math.Inf(1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Inf(-1))
	for _, p := range lm {
		minX, maxX = min(minX, p[0]), max(maxX, p[0])
		minY, maxY = min(minY, p[1]), max(maxY, p[1])
	}
	side := max(maxX-minX, maxY-minY) * 1.4
	cx, cy := (minX+maxX)/2, (minY+maxY)/2-0.08*side
	x0 := int(math.Floor(float64(max(0, cx-side/2))))
	y0 := int(math.Floor(float64(max(0, cy-side/2))))
	x1 := int(math.Ceil(float64(min(float32(g.W), cx+side/2))))
	y1 := int(math.Ceil(float64(min(float32(g.H), cy+side/2))))
	if x1-x0 < 8 || y1-y0 < 8 {
		return nil
	}
	scale := min(float32(1), 512/float32(max(x1-x0, y1-y0)))
	w, h := max(1, int(float32(x1-x0)*scale)), max(1, int(float32(y1-y0)*scale))
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := g.Bilinear(float32(x0)+(float32(x)+0.5)/scale-0.5, float32(y0)+(float32(y)+0.5)/scale-0.5)
			img.Pix[y*img.Stride+x] = uint8(max(0, min(255, v+0.5)))
		}
	}
	st := &report.Still{FacePNG: encodePNG(img), W: w, H: h}
	for _, p := range lm {
		st.Landmarks = append(st.Landmarks, [2]float32{(p[0]-float32(x0))*scale + 0.5*scale - 0.5, (p[1]-float32(y0))*scale + 0.5*scale - 0.5})
	}
	for i, n := range au.AUs() {
		v := round2(float64(m.Intensity[i]))
		st.AUs = append(st.AUs, report.AU{AU: n, Name: facs.Describe(n).Name, Intensity: v, Letter: letter(v)})
	}
	return st
}
