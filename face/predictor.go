package face

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/tell-project/tell/raster"
)

// NumLandmarks is the number of points in dlib's 68-point (iBUG 300-W) scheme.
const NumLandmarks = 68

// DefaultModelPath is where Debian's libdlib-data installs the 68-point model.
const DefaultModelPath = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"

// ModelFile is the model's file name, looked up inside $TELL_MODELS.
const ModelFile = "shape_predictor_68_face_landmarks.dat"

// ModelInstallHint tells users how to get the model file.
const ModelInstallHint = "install it with: sudo apt-get install libdlib-data (or pass its path: --landmarks for tell analyze and eval-llm, --model for tell bench landmarks; or put " + ModelFile + " in $TELL_MODELS)"

// ErrNoModel is returned (wrapped) by ResolveModelPath when no model file exists.
var ErrNoModel = errors.New("dlib 68-point landmark model not found")

// Point is a position in image pixels (x right, y down).
type Point struct{ X, Y float64 }

// Shape is one face's 68 landmarks in dlib's order: 0–16 jaw, 17–21 right
// brow, 22–26 left brow, 27–35 nose, 36–41 right eye, 42–47 left eye,
// 48–67 mouth ("right" is the subject's right, image left).
type Shape [NumLandmarks]Point

// Rect is a face box in pixels. It covers columns X..X+W-1 and rows
// Y..Y+H-1, the same pixels as dlib's rectangle(X, Y, X+W-1, Y+H-1).
type Rect struct{ X, Y, W, H int }

// ResolveModelPath picks the landmark model: the explicit path if non-empty,
// else $TELL_MODELS (a directory holding ModelFile, or the file itself),
// else DefaultModelPath. The error names what was tried and how to install.
func ResolveModelPath(explicit string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("%w: %v; %s", ErrNoModel, err, ModelInstallHint)
		}
		return explicit, nil
	}
	tried := []string{}
	if dir := os.Getenv("TELL_MODELS"); dir != "" {
		p := dir
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			p = filepath.Join(dir, ModelFile)
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		tried = append(tried, p+" ($TELL_MODELS)")
	}
	if _, err := os.Stat(DefaultModelPath); err == nil {
		return DefaultModelPath, nil
	}
	tried = append(tried, DefaultModelPath)
	return "", fmt.Errorf("%w (tried %v); %s", ErrNoModel, tried, ModelInstallHint)
}

// Predictor is dlib's ensemble-of-regression-trees shape predictor (Kazemi &
// Sullivan 2014) read from a dlib .dat file. It is immutable after loading:
// load it once and share it across goroutines.
type Predictor struct {
	initial []float32 // mean shape, x0 y0 x1 y1 ..., in box-normalised units
	levels  []cascadeLevel
	maxFeat int
	scratch sync.Pool // *scratch
}

// scratch is the per-call working memory of Predict, pooled.
type scratch struct {
	feat []float32 // feature pixel intensities of the current level
	offs []int32   // chosen leaf offset per tree of the current level
}

// cascadeLevel is one forest of the cascade with its feature pixels.
type cascadeLevel struct {
	ntrees, nsplits, nleaves int
	splits                   []split   // ntrees*nsplits, tree-major
	leaves                   []float32 // ntrees*nleaves*2*NumLandmarks
	anchor                   []int32   // per feature pixel: index of its anchor landmark
	deltas                   []float32 // per feature pixel: dx, dy from the anchor in mean-shape units
}

type split struct {
	idx1, idx2 int32
	thresh     float32
}

// LoadPredictor reads a dlib shape predictor file such as
// shape_predictor_68_face_landmarks.dat.
// The file is streamed, so loading needs little memory beyond the model.
func LoadPredictor(path string) (*Predictor, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("face: load landmark model: %w; %s", err, ModelInstallHint)
		}
		return nil, fmt.Errorf("face: load landmark model: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("face: load landmark model: %w", err)
	}
	if st.IsDir() || st.Size() > math.MaxInt32 {
		return nil, fmt.Errorf("face: load landmark model %s: not a model file", path)
	}
	p, err := parsePredictor(newStreamReader(f, int(st.Size())))
	if err != nil {
		return nil, fmt.Errorf("face: load landmark model %s: %w", path, err)
	}
	return p, nil
}

// ParsePredictor decodes a dlib shape predictor from its serialised bytes.
// Corrupt input yields an error, never a panic, and allocations stay
// proportional to len(data).
func ParsePredictor(data []byte) (*Predictor, error) {
	return parsePredictor(&dlibReader{buf: data})
}

func parsePredictor(r *dlibReader) (*Predictor, error) {
	if v := r.int(4); r.err == nil && v != 1 {
		return nil, fmt.Errorf("not a dlib shape predictor: version %d, want 1", v)
	}
	// initial_shape: matrix<float,0,1>
	nr, nc := r.int(8), r.int(8)
	if r.err != nil {
		return nil, r.err
	}
	if nr < 0 || nc < 0 {
		nr, nc = -nr, -nc
	}
	if nc != 1 || nr != 2*NumLandmarks {
		return nil, fmt.Errorf("mean shape is %dx%d: want a %d-point model (%dx1)", nr, nc, NumLandmarks, 2*NumLandmarks)
	}
	const dim = 2 * NumLandmarks
	p := &Predictor{initial: make([]float32, dim)}
	for i := range p.initial {
		p.initial[i] = r.float32()
	}

	// forests: vector<vector<regression_tree>>
	const minFloat = 4 // packed mantissa and exponent take at least 2 bytes each
	ncasc := r.length("cascade", 2)
	p.levels = make([]cascadeLevel, ncasc)
	for c := range p.levels {
		lv := &p.levels[c]
		lv.ntrees = r.length("forest", 2)
		for t := 0; t < lv.ntrees && r.err == nil; t++ {
			start := r.offset()
			ns := r.length("split list", 8)
			if t == 0 {
				lv.nsplits = ns
			} else if ns != lv.nsplits {
				r.fail("cascade %d tree %d has %d splits, tree 0 has %d (trees of unequal depth are not supported)", c, t, ns, lv.nsplits)
			}
			if t == 0 {
				// Pre-size from tree 0, but only as far as the input can back.
				maxTrees := lv.ntrees
				if per := lv.nsplits*8 + (lv.nsplits+1)*(4+dim*minFloat); per > 0 && r.remaining()/per+1 < maxTrees {
					maxTrees = r.remaining()/per + 1
				}
				lv.splits = make([]split, 0, maxTrees*lv.nsplits)
				lv.leaves = make([]float32, 0, maxTrees*(lv.nsplits+1)*dim)
			}
			for i := 0; i < ns && r.err == nil; i++ {
				a, b := r.uint(), r.uint()
				th := r.float32()
				if a > math.MaxInt32 || b > math.MaxInt32 {
					r.fail("split feature index %d/%d out of range", a, b)
				}
				lv.splits = append(lv.splits, split{int32(a), int32(b), th})
			}
			nl := r.length("leaf list", 4+dim*minFloat)
			if r.err == nil && (nl != ns+1 || nl&(nl-1) != 0) {
				r.fail("cascade %d tree %d has %d leaves for %d splits, want a full binary tree", c, t, nl, ns)
			}
			lv.nleaves = nl
			for i := 0; i < nl && r.err == nil; i++ {
				n := len(lv.leaves)
				lv.leaves = append(lv.leaves, make([]float32, dim)...)
				r.floatColumn("leaf value", dim, lv.leaves[n:])
			}
			if r.err != nil {
				return nil, fmt.Errorf("cascade %d tree %d (from byte %d): %w", c, t, start, r.err)
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}

	// anchor_idx: vector<vector<unsigned long>>
	if n := r.length("anchor list", 2); r.err == nil && n != ncasc {
		return nil, fmt.Errorf("%d anchor sets for %d cascade levels", n, ncasc)
	}
	for c := range p.levels {
		lv := &p.levels[c]
		nf := r.length("anchor set", 2)
		lv.anchor = make([]int32, nf)
		for i := range lv.anchor {
			a := r.uint()
			if r.err == nil && a >= NumLandmarks {
				r.fail("cascade %d feature %d anchored at landmark %d (of %d)", c, i, a, NumLandmarks)
			}
			lv.anchor[i] = int32(a)
		}
		if nf > p.maxFeat {
			p.maxFeat = nf
		}
	}
	// deltas: vector<vector<vector<float,2>>>
	if n := r.length("delta list", 2); r.err == nil && n != ncasc {
		return nil, fmt.Errorf("%d delta sets for %d cascade levels", n, ncasc)
	}
	for c := range p.levels {
		lv := &p.levels[c]
		nf := r.length("delta set", 2*minFloat)
		if r.err == nil && nf != len(lv.anchor) {
			r.fail("cascade %d has %d deltas for %d anchors", c, nf, len(lv.anchor))
		}
		lv.deltas = make([]float32, 2*nf)
		for i := range lv.deltas {
			lv.deltas[i] = r.float32()
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	for c := range p.levels {
		lv := &p.levels[c]
		nf := int32(len(lv.anchor))
		for _, s := range lv.splits {
			if s.idx1 >= nf || s.idx2 >= nf {
				return nil, fmt.Errorf("cascade %d: split uses feature pixel %d/%d of %d", c, s.idx1, s.idx2, nf)
			}
		}
	}
	maxTrees := 0
	for _, lv := range p.levels {
		maxTrees = max(maxTrees, lv.ntrees)
	}
	p.scratch.New = func() any {
		return &scratch{feat: make([]float32, p.maxFeat), offs: make([]int32, maxTrees)}
	}
	return p, nil
}

// Levels reports the cascade depth and the number of trees per level.
func (p *Predictor) Levels() (levels, treesPerLevel int) {
	if len(p.levels) == 0 {
		return 0, 0
	}
	return len(p.levels), p.levels[0].ntrees
}

// MeanShape returns the model's mean shape mapped into box: the starting
// point of the cascade.
func (p *Predictor) MeanShape(box Rect) Shape {
	var s Shape
	u := newBoxTransform(box)
	for i := range s {
		s[i] = u.apply(p.initial[2*i], p.initial[2*i+1])
	}
	return s
}

// Predict runs the cascade on img inside box and returns the 68 landmarks.
// It follows dlib's shape_predictor::operator() step for step (float32
// shape, float64 transforms, feature pixels rounded to the nearest pixel and
// 0 outside the image), so rounding each coordinate with math.Floor(v+0.5)
// gives dlib's integer points. img must hold 0..255 intensities, converted
// from colour as dlib's load_image does (raster.FromImage). Predict is safe
// for concurrent use.
func (p *Predictor) Predict(img *raster.Gray, box Rect) Shape {
	const dim = 2 * NumLandmarks
	var cur [dim]float32
	copy(cur[:], p.initial)
	sc := p.scratch.Get().(*scratch)
	feat := sc.feat
	u := newBoxTransform(box)
	for li := range p.levels {
		lv := &p.levels[li]
		m := similarity(p.initial, cur[:])
		u.sample(img, m, &cur, lv.anchor, lv.deltas, feat)
		// Walk every tree first (the features are fixed for the level),
		// then sum the chosen leaves: the walks are independent, so the CPU
		// overlaps them, and the sum streams through the leaves.
		ns, nl := lv.nsplits, lv.nleaves
		offs := sc.offs[:lv.ntrees]
		for t := range offs {
			sp := lv.splits[t*ns : t*ns+ns]
			i := 0
			for i < ns {
				// Left when feat[idx1]-feat[idx2] > thresh, read from the
				// sign of thresh minus it (negative exactly then, for
				// finite values) instead of a branch: which way a split
				// goes is a coin flip the branch predictor loses half the
				// time.
				s := sp[i]
				d := s.thresh - (feat[s.idx1] - feat[s.idx2])
				i = 2*i + 2 - int(math.Float32bits(d)>>31)
			}
			offs[t] = int32(((t * nl) + (i - ns)) * dim)
		}
		addLeaves(&cur, lv.leaves, offs)
	}
	p.scratch.Put(sc)
	var s Shape
	for i := range s {
		s[i] = u.apply(cur[2*i], cur[2*i+1])
	}
	return s
}

// addLeaves adds the leaf vectors at offs to the shape in tree order, as
// dlib's repeated current_shape += leaf does, so every float32 sum rounds
// alike. It works through the shape in blocks of 8 coordinates held in
// registers, touching each block of every leaf once.
func addLeaves(cur *[2 * NumLandmarks]float32, leaves []float32, offs []int32) {
	if haveAVX && len(offs) > 0 {
		// The offsets come from the trees' own leaf indices (Predict), so
		// every leaf lies within leaves.
		if haveAVX512 {
			addLeavesAVX512(&cur[0], &leaves[0], &offs[0], len(offs))
			return
		}
		addLeavesAVX(&cur[0], &leaves[0], &offs[0], len(offs))
		return
	}
	addLeavesGo(cur, leaves, offs)
}

// addLeavesGo is addLeaves in Go.
func addLeavesGo(cur *[2 * NumLandmarks]float32, leaves []float32, offs []int32) {
	for j := 0; j < len(cur); j += 8 {
		c := cur[j : j+8 : j+8]
		a0, a1, a2, a3, a4, a5, a6, a7 := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
		for _, o := range offs {
			l := leaves[int(o)+j : int(o)+j+8 : int(o)+j+8]
			a0 += l[0]
			a1 += l[1]
			a2 += l[2]
			a3 += l[3]
			a4 += l[4]
			a5 += l[5]
			a6 += l[6]
			a7 += l[7]
		}
		c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7] = a0, a1, a2, a3, a4, a5, a6, a7
	}
}

// boxTransform maps box-normalised shape coordinates to pixels: (0,0) to
// the box's top-left pixel and (1,1) to its bottom-right pixel, as dlib's
// unnormalizing_tform does.
type boxTransform struct{ x0, y0, sx, sy float64 }

func newBoxTransform(b Rect) boxTransform {
	return boxTransform{float64(b.X), float64(b.Y), float64(b.W - 1), float64(b.H - 1)}
}

func (u boxTransform) apply(x, y float32) Point {
	return Point{u.sx*float64(x) + u.x0, u.sy*float64(y) + u.y0}
}

// sample fills feat with the intensities at the feature pixels of one level:
// each pixel sits at its anchor landmark plus its delta turned and scaled by
// m, rounded to the nearest pixel; pixels outside the image read 0.
func (u boxTransform) sample(img *raster.Gray, m [4]float32, cur *[2 * NumLandmarks]float32, anchor []int32, deltas []float32, feat []float32) {
	w, h := img.W, img.H
	feat = feat[:len(anchor)]
	deltas = deltas[:2*len(anchor)]
	for i, a := range anchor {
		dx, dy := deltas[2*i], deltas[2*i+1]
		// float32 arithmetic, as dlib's matrix<float,2,2> * vector<float,2>.
		// The explicit conversions round each product, which stops Go from
		// fusing multiply-adds on CPUs that have them (arm64), so results
		// are the same on every architecture.
		x := float32(m[0]*dx) + float32(m[1]*dy)
		y := float32(m[2]*dx) + float32(m[3]*dy)
		x += cur[2*a]
		y += cur[2*a+1]
		px := int(math.Floor(float64(u.sx*float64(x)) + u.x0 + 0.5))
		py := int(math.Floor(float64(u.sy*float64(y)) + u.y0 + 0.5))
		if px >= 0 && py >= 0 && px < w && py < h {
			feat[i] = img.Pix[py*img.Stride+px]
		} else {
			feat[i] = 0
		}
	}
}

// similarity returns the 2×2 linear part (row-major, float32) of the
// least-squares similarity transform taking shape from onto shape to
// (Umeyama 1991), dlib's find_tform_between_shapes. In 2-D the SVD of
// Umeyama's covariance has the closed form used here: with a = trace(C) and
// b = C10 − C01, c·R = [a −b; b a] / σ²_from.
func similarity(from, to []float32) [4]float32 {
	n := len(from) / 2
	var mfx, mfy, mtx, mty float64
	for i := 0; i < n; i++ {
		mfx += float64(from[2*i])
		mfy += float64(from[2*i+1])
		mtx += float64(to[2*i])
		mty += float64(to[2*i+1])
	}
	inv := 1 / float64(n)
	mfx, mfy, mtx, mty = mfx/float64(n), mfy/float64(n), mtx/float64(n), mty/float64(n)
	var sf, c00, c01, c10, c11 float64
	for i := 0; i < n; i++ {
		fx, fy := float64(from[2*i])-mfx, float64(from[2*i+1])-mfy
		tx, ty := float64(to[2*i])-mtx, float64(to[2*i+1])-mty
		sf += fx*fx + fy*fy
		c00 += tx * fx
		c01 += tx * fy
		c10 += ty * fx
		c11 += ty * fy
	}
	sf *= inv
	if sf == 0 {
		return [4]float32{1, 0, 0, 1}
	}
	a := (c00 + c11) * inv / sf
	b := (c10 - c01) * inv / sf
	return [4]float32{float32(a), float32(-b), float32(b), float32(a)}
}
