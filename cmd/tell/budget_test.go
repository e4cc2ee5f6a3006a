package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/face"
)

// TestMaxPixels: analyze and prepare refuse an image beyond --max-pixels,
// naming the file and the budget; a zero budget is a usage error.
func TestMaxPixels(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "wide.png")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, image.NewGray(image.Rect(0, 0, 200, 100))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	manifest := filepath.Join(dir, "m.csv")
	os.WriteFile(manifest, []byte("sample,subject,label,image\ns1,p1,happiness,wide.png\n"), 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"analyze", img, "--max-pixels", "0"}, 2, "--max-pixels"},
		{[]string{"prepare", "--manifest", manifest, "--out", filepath.Join(dir, "c"), "--max-pixels", "-1"}, 2, "--max-pixels"},
		{[]string{"prepare", "--manifest", manifest, "--out", filepath.Join(dir, "c"), "--max-pixels", "19999", "--align=false"}, 1, "pixel budget"},
	}
	if _, err := face.ResolveModelPath(""); err == nil {
		tests = append(tests, struct {
			args []string
			code int
			want string
		}{[]string{"analyze", img, "--out", filepath.Join(dir, "o"), "--quiet", "--max-pixels", "19999"}, 1, "wide.png"})
	}
	for _, tc := range tests {
		code, out, errOut := runTell(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("tell %v: exit %d, output %q; want exit %d mentioning %q", tc.args, code, out+errOut, tc.code, tc.want)
		}
		if tc.code == 1 && !strings.Contains(out+errOut, "pixel budget") {
			t.Errorf("tell %v: %q does not name the pixel budget", tc.args, out+errOut)
		}
	}
}
