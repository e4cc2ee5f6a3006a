package analyze

import (
	"context"
	"io"
	"testing"

	"github.com/tell-project/tell/raster"
	"github.com/tell-project/tell/synth"
)

// loopSource replays pre-rendered frames n times over: the analysis alone,
// without rendering or decoding.
type loopSource struct {
	frames []*raster.Gray
	i, n   int
	fps    float64
}

func (s *loopSource) Next(ctx context.Context) (*raster.Gray, error) {
	if s.i >= s.n {
		return nil, io.EOF
	}
	g := s.frames[s.i%len(s.frames)]
	s.i++
	return g, nil
}
func (s *loopSource) FPS() float64 { return s.fps }
func (s *loopSource) Frames() int  { return s.n }
func (s *loopSource) Close() error { return nil }

// BenchmarkPipeline640 analyses 640×480 frames of a long synthetic clip
// (several expressions) and reports frames per second.
func BenchmarkPipeline640(b *testing.B) { benchPipeline640(b, false) }

// BenchmarkPipeline640GeometryOnly is BenchmarkPipeline640 without the
// dense-flow AU evidence, for the ratio.
func BenchmarkPipeline640GeometryOnly(b *testing.B) { benchPipeline640(b, true) }

func benchPipeline640(b *testing.B, geometryOnly bool) {
	clips, err := synth.Plan(testFace(b), synth.Config{Seed: 77, Width: 640, Height: 480, Scale: 1.25, Long: true, Duration: 10, Events: 2}, 1)
	if err != nil {
		b.Fatal(err)
	}
	c := clips[0]
	frames := make([]*raster.Gray, c.Frames)
	for t := range frames {
		frames[t] = raster.FromImage(c.Frame(t, nil))
	}
	out := b.TempDir()
	b.ResetTimer()
	total := 0
	for i := 0; i < b.N; i++ {
		src := &loopSource{frames: frames, n: len(frames), fps: c.FPS}
		res, err := RunSource(context.Background(), src, "bench", Options{Out: out, Landmarker: truthLandmarker{c}, GeometryOnly: geometryOnly})
		if err != nil {
			b.Fatal(err)
		}
		total += res.Frames
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "frames/s")
}
