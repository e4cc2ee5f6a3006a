package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tell-project/tell/face/facetest"
	"github.com/tell-project/tell/queue"
)

// The test binary doubles as a tell serve process whose memory the tests
// measure: TELL_SERVER_HELPER_LIMIT is its --memory-limit in bytes.
func TestMain(m *testing.M) {
	if v := os.Getenv("TELL_SERVER_HELPER_LIMIT"); v != "" {
		os.Exit(helperServe(v))
	}
	os.Exit(m.Run())
}

// helperServe runs a server with the real analysis, two jobs at once,
// under a memory limit as tell serve sets it, prints its URL and serves
// until its stdin closes.
func helperServe(limitText string) int {
	limit, err := strconv.ParseInt(limitText, 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	goLimit, mem := MemoryForLimit(limit)
	debug.SetMemoryLimit(goLimit)
	dir, err := os.MkdirTemp("", "tell-helper-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	e, err := queue.StartEmbedded(queue.EmbeddedOptions{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer e.Shutdown()
	nc, err := e.Connect("helper")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	q, err := queue.Open(context.Background(), nc, queue.Config{Manage: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := New(Config{Queue: q, Jobs: 2, Workdir: dir, Memory: mem, Rate: -1, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("http://%s\n", ln.Addr())
	ctx, cancel := context.WithCancel(context.Background())
	go func() { io.Copy(io.Discard, os.Stdin); cancel() }()
	if err := s.Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// largestSquare is the side of the largest square image of bpp bytes a
// pixel whose decoding fits budget bytes.
func largestSquare(budget int64, bpp int) int {
	n := int(math.Sqrt(float64(budget-DecodeBytes(0, 0, bpp)) / float64(2*bpp+32)))
	for DecodeBytes(n, n, bpp) > budget {
		n--
	}
	return n
}

// checker is an n×n checkerboard drawn as it is read, grey 8-bit or
// RGBA 16-bit (one pixel not opaque, so that PNG keeps the alpha): a large
// image that costs the test no memory of its own.
type checker struct {
	n      int
	rgba16 bool
}

func (c checker) Bounds() image.Rectangle { return image.Rect(0, 0, c.n, c.n) }

func (c checker) ColorModel() color.Model {
	if c.rgba16 {
		return color.NRGBA64Model
	}
	return color.GrayModel
}

func (c checker) At(x, y int) color.Color {
	on := (x/64+y/64)%2 == 1
	if !c.rgba16 {
		if on {
			return color.Gray{160}
		}
		return color.Gray{0}
	}
	a := uint16(65535)
	if x == 0 && y == 0 {
		a = 65534
	}
	if on {
		return color.NRGBA64{40000, 40000, 40000, a}
	}
	return color.NRGBA64{0, 0, 0, a}
}

// checkerPNG encodes a checker: a few kilobytes that decode to its size.
func checkerPNG(t *testing.T, n int, rgba16 bool) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, checker{n, rgba16}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestMemoryLimitHolds: a server under a memory limit (512 MiB here, the
// smallest tell serve takes) gets eight uploads at once, with two jobs at
// once: two 16-bit RGBA images of 4999² (inside the pixel budget; the
// issue's probe, which took a server from 36 MB to 1.06 GB), refused from
// their header for the bytes they decode to, and six of the largest
// images the memory budget admits, three grey, three 16-bit RGBA. The
// resident peak stays under the limit. (Before the byte budget, eight
// 16-bit uploads under a 1024 MiB limit peaked at 1214 MiB.)
func TestMemoryLimitHolds(t *testing.T) {
	if testing.Short() {
		t.Skip("real analyses of large images in -short mode")
	}
	facetest.ModelPath(t)
	const limit = 512 << 20
	_, mem := MemoryForLimit(limit)
	grey, rgba := largestSquare(mem.Total(), 1), largestSquare(mem.Total(), 8)
	imgs := map[string][]byte{"grey": checkerPNG(t, grey, false), "rgba16": checkerPNG(t, rgba, true), "huge": checkerPNG(t, 4999, true)}
	over := checkerPNG(t, rgba+1, true)

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("TELL_SERVER_HELPER_LIMIT=%d", limit))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	base, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v %s", err, stderr.String())
	}
	base = strings.TrimSpace(base)

	if code, _, m := postPNG(t, base, "", over); code != 413 || !strings.Contains(m["error"].(string), "memory budget") {
		t.Fatalf("a 16-bit image of %d² (one more than fits): %d %v", rgba+1, code, m)
	}
	var wg sync.WaitGroup
	ids := make(chan string, 8)
	for i, kind := range []string{"huge", "grey", "rgba16", "grey", "huge", "rgba16", "grey", "rgba16"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for try := 0; try < 600; try++ { // 429: too many uploads at once
				body, ct := multipartBody(t, "file", kind+".png", imgs[kind])
				code, m, err := tryPost(base+"/v1/analyze", ct, body)
				if kind == "huge" && err == nil && code != http.StatusTooManyRequests {
					if code != http.StatusRequestEntityTooLarge {
						t.Errorf("upload %d, 16-bit RGBA 4999²: %d %v", i, code, m)
					}
					return
				}
				if err == nil && code == http.StatusAccepted {
					ids <- m["id"].(string)
					return
				}
				if err == nil && code != http.StatusTooManyRequests {
					t.Errorf("upload %d, %s: %d %v", i, kind, code, m)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	close(ids)
	for id := range ids {
		// The checkerboards hold no face: the jobs fail, having decoded
		// and searched the whole image.
		st := waitState(t, base, id, StateDone, StateFailed)
		if e, _ := st["error"].(string); !strings.Contains(e, "no face") {
			t.Errorf("job %s: %v", id, st)
		}
	}
	peak := vmHWM(t, cmd.Process.Pid)
	t.Logf("limit %d MiB (budget %d MiB): 2 refused 16-bit RGBA 4999², 3 grey %d², 3 16-bit RGBA %d², 2 jobs at once: resident peak %d MiB",
		limit>>20, mem.Total()>>20, grey, rgba, peak>>20)
	if peak >= limit {
		t.Errorf("resident peak %d MiB, over the %d MiB limit", peak>>20, limit>>20)
	}
}

// vmHWM is a process's resident peak (Linux).
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}
