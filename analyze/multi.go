package analyze

import (
	"context"
	"math"
	"slices"

	"github.com/tell-project/tell/blazeface"
	"github.com/tell-project/tell/face"
	"github.com/tell-project/tell/profile"
	"github.com/tell-project/tell/raster"
)

// multiFaces finds the faces of a video beyond face 0 (see faces.go).
type multiFaces struct {
	mf *face.MultiFinder
	// every is the number of frames between looks for new faces (a
	// second); lostEvery the number between looks for a lost face (a
	// tenth of a second).
	every, lostEvery int
	src              Source
	lane             *profile.Lane    // charged for BlazeFace's detections and fits
	dets             []blazeface.Face // BlazeFace's faces in frame detFrame
	detFrame         int
	detErr           error
	cands            []blazeface.Face // new faces seen in frame candFrame, to be seen again
	candFrame        int
	candFine         bool // cands come from a look at every scale
}

// fineEvery: one look for new faces in fineEvery runs BlazeFace at every
// scale (the whole frame, then tiles of it at twice the scale for faces
// down to its MinFace, 20 px); the others at the coarsest scale only,
// which finds faces down to a sixteenth of the frame's longer side (40 px
// on a 640×360 frame) in one net run instead of seven. A small new face is
// then found within fineEvery seconds, a larger one within a second as
// before; lost faces are searched for at every scale (search).
const fineEvery = 3

func newMultiFaces(r *run, src Source) *multiFaces {
	return &multiFaces{mf: r.opt.Faces, every: max(1, int(math.Round(r.fps))), lostEvery: max(1, int(math.Round(r.fps/10))),
		src: src, lane: r.lane, detFrame: -1, candFrame: -2}
}

// detect returns BlazeFace's faces in frame idx (g, in colour when the
// source has it), once per frame.
func (m *multiFaces) detect(g *raster.Gray, idx int) ([]blazeface.Face, error) {
	if m.detFrame == idx {
		return m.dets, m.detErr
	}
	rgb := frameRGB(m.src, g)
	defer m.lane.Leave(m.lane.Enter(profile.Detect))
	m.dets, m.detErr = m.mf.Detect(g, rgb)
	m.detFrame = idx
	return m.dets, m.detErr
}

// detectCoarse returns BlazeFace's faces in frame idx at its coarsest
// scale only, or at every scale when detect already ran on the frame.
func (m *multiFaces) detectCoarse(g *raster.Gray, idx int) ([]blazeface.Face, error) {
	if m.detFrame == idx {
		return m.dets, m.detErr
	}
	defer m.lane.Leave(m.lane.Enter(profile.Detect))
	return m.mf.DetectCoarse(g, frameRGB(m.src, g))
}

// fine reports whether discover looks at every scale in frame idx: one
// look (a frame every second) in fineEvery, and the frame that confirms
// candidates such a look saw.
func (m *multiFaces) fine(idx int, look, confirm bool) bool {
	return (look && (idx/m.every)%fineEvery == 0) || (confirm && m.candFine)
}

// searchFrame reports whether lost faces are looked for in frame idx.
func (m *multiFaces) searchFrame(idx int) bool { return idx%m.lostEvery == 0 }

// search looks for lost face f among BlazeFace's faces in frame idx: not
// held by another tracked face, of about its size, within reach of where
// it was going (a box side, and two more per second lost), and looking
// like it (sameFace); the best-matching one is fitted and returned.
func (m *multiFaces) search(f *faceRun, g *raster.Gray, idx int) ([68][2]float32, bool, error) {
	var none [68][2]float32
	if f.lastSeen < 0 || !f.hasSig {
		return none, false, nil
	}
	dets, err := m.detect(g, idx)
	if err != nil {
		return none, false, err
	}
	defer m.lane.Leave(m.lane.Enter(profile.Detect))
	best, bestSim := none, sameFace
	found := false
	for _, d := range dets {
		b := blazeBox(d)
		if !f.within(b, idx) || f.heldByOther(b) {
			continue
		}
		fd := m.mf.Fit(g, d)
		lm := shapeLandmarks(&fd.Shape)
		sim := f.similarity(g, &lm)
		f.log.Debug("lost face: candidate", "face", f.id, "frame", f.num(idx), "similarity", math.Round(sim*1000)/1000)
		if sim >= bestSim {
			best, bestSim, found = lm, sim, true
		}
	}
	return best, found, nil
}

// within reports whether a face in box b could be lost face f at frame
// idx: of about its size (a factor 2) and within reach of where it was
// going (a box side, and two more per second lost).
func (f *faceRun) within(b [4]float64, idx int) bool {
	gone := float64(idx - f.lastSeen)
	side := f.box[2] - f.box[0]
	px := (f.box[0]+f.box[2])/2 + f.vel[0]*gone
	py := (f.box[1]+f.box[3])/2 + f.vel[1]*gone
	s := b[2] - b[0]
	cx, cy := (b[0]+b[2])/2, (b[1]+b[3])/2
	return s >= side/2 && s <= 2*side && math.Hypot(cx-px, cy-py) <= side*(1+2*gone/f.fps)
}

// claim decides what a new face in frame idx is, next to the lost faces
// it could be: one of them when it looks like it (sameFace); undecided
// (wait) while it looks somewhat like one (a face half out from behind
// another looks like no one yet); new otherwise.
func (r *run) claim(g *raster.Gray, d blazeface.Face, idx int) (owner *faceRun, wait bool) {
	defer r.lane.Leave(r.lane.Enter(profile.Detect))
	b := blazeBox(d)
	var lm [68][2]float32
	fitted := false
	best := sameFace
	for _, f := range r.faces {
		if f.est != nil || f.seed != nil || f.lastSeen < 0 || !f.hasSig || f.forgotten(idx) || !f.within(b, idx) {
			continue
		}
		if !fitted {
			fd := r.multi.mf.Fit(g, d)
			lm, fitted = shapeLandmarks(&fd.Shape), true
		}
		sim := f.similarity(g, &lm)
		switch {
		case sim >= best:
			owner, best = f, sim
		case sim >= unlikeFace:
			wait = true
		}
	}
	if owner != nil {
		return owner, false
	}
	return nil, wait
}

// unlikeFace is the signature similarity below which a new face is taken
// for someone else than a lost face it could be (a face half out from
// behind another scored 0.40 against its own earlier signature on the
// development crowd clips; two different people reach 0.79).
const unlikeFace = 0.35

// discover looks for new faces in frame idx, once a second (at every
// scale one time in fineEvery, else at the coarsest) and on the frame
// after new ones were seen (at the scales that saw them): a BlazeFace face
// held by no track, seen at the same place on two consecutive frames,
// starts a track (at most Options.MaxFaces tracks look for faces at a
// time). It returns the new faces, which have not yet seen frame idx.
func (r *run) discover(g *raster.Gray, idx int) ([]*faceRun, error) {
	m := r.multi
	confirm := m.candFrame == idx-1 && len(m.cands) > 0
	look := idx%m.every == 0
	if !look && !confirm {
		return nil, nil
	}
	fine := m.fine(idx, look, confirm)
	live := 0
	for _, f := range r.faces {
		if !f.forgotten(idx) {
			live++
		}
	}
	if live >= r.opt.MaxFaces {
		m.cands = nil
		return nil, nil
	}
	detect := m.detectCoarse
	if fine {
		detect = m.detect
	}
	dets, err := detect(g, idx)
	if err != nil {
		return nil, err
	}
	var fresh []blazeface.Face
	for _, d := range dets {
		if b := blazeBox(d); !r.held(b, idx) && !r.touching(b) {
			fresh = append(fresh, d)
		}
	}
	var out []*faceRun
	if confirm {
		for _, d := range fresh {
			b := blazeBox(d)
			again := slices.ContainsFunc(m.cands, func(c blazeface.Face) bool { return boxIoU(b, blazeBox(c)) >= 0.3 })
			if !again || live >= r.opt.MaxFaces {
				continue
			}
			if owner, wait := r.claim(g, d, idx); owner != nil || wait {
				if owner != nil {
					// A lost face, back: it takes the face from the next
					// frame.
					owner.seed = &d
				}
				continue
			}
			if f0 := r.faces[0]; f0.lastSeen < 0 && f0.est == nil && f0.seed == nil {
				// Face 0 has not been found yet (the Landmarker missed a
				// turned or small face): this is face 0, from the next
				// frame.
				f0.seed = &d
				continue
			}
			f, err := r.newFaceRun(len(r.faces), len(r.faces[0].ring), idx)
			if err != nil {
				return nil, err
			}
			f.seed = &d
			r.faces = append(r.faces, f)
			out = append(out, f)
			live++
		}
	}
	// What is left is seen for the first time.
	m.cands, m.candFrame, m.candFine = m.cands[:0], idx, fine
	for _, d := range fresh {
		b := blazeBox(d)
		taken := slices.ContainsFunc(r.faces, func(f *faceRun) bool { return f.seed != nil && boxIoU(b, blazeBox(*f.seed)) > 0.3 })
		if !taken {
			m.cands = append(m.cands, d)
		}
	}
	return out, nil
}

// held reports whether a face in box b (x0, y0, x1, y1) is a face some
// track holds: tracked now, or lost within the last second near there.
func (r *run) held(b [4]float64, idx int) bool {
	cx, cy := (b[0]+b[2])/2, (b[1]+b[3])/2
	for _, f := range r.faces {
		if f.lastSeen < 0 {
			continue
		}
		recent := f.tracked() || float64(idx-f.lastSeen) <= r.fps
		inside := cx >= f.box[0] && cx <= f.box[2] && cy >= f.box[1] && cy <= f.box[3]
		if recent && (inside || boxIoU(f.box, b) > 0.3) {
			return true
		}
	}
	return false
}

// touching reports whether a fifth or more of box b lies on a tracked
// face's head (its landmarks' box grown by half): a face coming out from
// behind another is not started as a new face until it is clear (seen
// whole, a lost face it may be can recognise it).
func (r *run) touching(b [4]float64) bool {
	for _, f := range r.faces {
		if !f.tracked() {
			continue
		}
		h := grow(f.box, 1.5)
		iw := math.Min(h[2], b[2]) - math.Max(h[0], b[0])
		ih := math.Min(h[3], b[3]) - math.Max(h[1], b[1])
		if iw > 0 && ih > 0 && iw*ih > 0.2*(b[2]-b[0])*(b[3]-b[1]) {
			return true
		}
	}
	return false
}

// grow scales box b about its centre by k.
func grow(b [4]float64, k float64) [4]float64 {
	cx, cy := (b[0]+b[2])/2, (b[1]+b[3])/2
	hw, hh := k*(b[2]-b[0])/2, k*(b[3]-b[1])/2
	return [4]float64{cx - hw, cy - hh, cx + hw, cy + hh}
}

// part ends the track of one of two tracked faces that hold the same
// place (IoU above 0.5): the one that looks less like itself.
func (r *run) part(idx int) {
	for i, a := range r.faces {
		for _, b := range r.faces[i+1:] {
			if !a.tracked() || !b.tracked() || boxIoU(a.box, b.box) <= 0.5 {
				continue
			}
			sa, sb := a.lastSig.Similarity(&a.sig), b.lastSig.Similarity(&b.sig)
			loser := b
			if sa < sb {
				loser = a
			}
			r.log.Info("two faces on one place; the less alike is lost", "face", loser.id, "frame", r.num(idx))
			loser.close()
			loser.lastOK = false
		}
	}
}

// blazeBox is a BlazeFace face's box as (x0, y0, x1, y1) in landmark
// coordinates, scaled to the landmarks' extent (about 0.87 of its side
// for a frontal face; the same factor face.MultiFinder uses).
func blazeBox(d blazeface.Face) [4]float64 {
	cx, cy := (d.Box.X0+d.Box.X1)/2-0.5, (d.Box.Y0+d.Box.Y1)/2-0.5
	h := 0.87 * math.Max(d.Box.W(), d.Box.H()) / 2
	return [4]float64{cx - h, cy - h, cx + h, cy + h}
}

func shapeLandmarks(s *face.Shape) [68][2]float32 {
	var lm [68][2]float32
	for i, p := range s {
		lm[i] = [2]float32{float32(p.X), float32(p.Y)}
	}
	return lm
}

// stepFaces runs frame idx through every face, in id order, then looks
// for new faces (which then see the frame too) and parts faces that came
// to hold one place. It reports whether any face was tracked.
func (r *run) stepFaces(ctx context.Context, src Source, idx int, g *raster.Gray, repeat bool, frozen int) (bool, error) {
	any := false
	for _, f := range r.faces {
		if f.forgotten(idx) {
			continue
		}
		ok, err := f.step(ctx, src, idx, g, repeat, frozen)
		if err != nil {
			return any, err
		}
		any = any || ok
	}
	if r.multi == nil || repeat {
		return any, nil
	}
	fresh, err := r.discover(g, idx)
	if err != nil {
		return any, err
	}
	for _, f := range fresh {
		ok, err := f.step(ctx, src, idx, g, repeat, frozen)
		if err != nil {
			return any, err
		}
		any = any || ok
	}
	r.part(idx)
	return any, nil
}
