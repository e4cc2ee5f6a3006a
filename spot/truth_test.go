package spot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTruth(t testing.TB, body string) string {
	p := filepath.Join(t.TempDir(), "truth.csv")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadTruth(t *testing.T) {
	p := writeTruth(t, "\ufeffVideo,Onset,Apex,Offset,fps,aus\n"+
		"a.mp4,10,15,30,200,4+L10\n"+
		"a.mp4,50,,60,,\n"+
		"dir/b,,,,,\n")
	got, err := ReadTruth(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d rows", len(got))
	}
	if g := got[0]; g.Clip != "a.mp4" || g.Path != filepath.Join(filepath.Dir(p), "a.mp4") || g.Onset != 10 || g.Apex != 15 || g.Offset != 30 || g.FPS != 200 || g.AUs != "4+L10" {
		t.Errorf("row 1: %+v", g)
	}
	if g := got[1]; g.Apex != 0 || g.Onset != 50 || g.FPS != 0 {
		t.Errorf("row 2: %+v", g)
	}
	if g := got[2]; g.Onset != 0 || g.Offset != 0 || g.Clip != "dir/b" {
		t.Errorf("row 3 (no expressions): %+v", g)
	}
	// 0-based numbering (tell synth's manifests) is shifted to 1-based;
	// the first non-empty of clip, video, frames names the clip.
	p = writeTruth(t, "sample,frames,video,onset,apex,offset\nx,clip000,,0,3,9\n")
	got, err = ReadTruth(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if g := got[0]; g.Clip != "clip000" || g.Onset != 1 || g.Apex != 4 || g.Offset != 10 {
		t.Errorf("0-based row: %+v", g)
	}
}

func TestReadTruthErrors(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"", "empty file"},
		{"onset,offset\n1,2\n", "no clip, video or frames column"},
		{"clip,onset\na,1\n", "no offset column"},
		{"clip,onset,offset\n", "no rows"},
		{"clip,onset,offset\n,1,2\n", "line 2: no clip"},
		{"clip,onset,offset\na,x,2\n", `line 2: onset "x"`},
		{"clip,onset,offset\na,0,2\n", `line 2: onset "0"`},
		{"clip,onset,offset\na,5,2\n", "line 2: onset 5, apex , offset 2 out of order"},
		{"clip,onset,apex,offset\na,1,9,5\n", "out of order"},
		{"clip,onset,offset\na,1,\n", "line 2: empty offset"},
		{"clip,onset,offset,fps\na,1,2,-3\n", `line 2: fps "-3"`},
		{"clip,onset,offset\na,1,2\n\"b,1,2\n", "truth"},
	} {
		_, err := ReadTruth(writeTruth(t, c.body), 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.body, err, c.want)
		}
	}
	if _, err := ReadTruth(writeTruth(t, "clip,onset,offset\na,1,2\n"), 2); err == nil {
		t.Error("base 2 accepted")
	}
	if _, err := ReadTruth(filepath.Join(t.TempDir(), "missing.csv"), 1); err == nil {
		t.Error("missing file accepted")
	}
}

func FuzzReadTruth(f *testing.F) {
	f.Add("clip,onset,apex,offset,fps,aus\na,1,2,3,200,12\n")
	f.Add("video,onset,offset\nx,,\n")
	f.Add("frames,onset,offset\n\"a,b\",1,99999999999\n")
	f.Fuzz(func(t *testing.T, body string) {
		rows, err := ReadTruth(writeTruth(t, body), 1)
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Clip == "" || r.Onset < 0 || (r.Onset > 0 && (r.Offset < r.Onset || (r.Apex != 0 && (r.Apex < r.Onset || r.Apex > r.Offset)))) {
				t.Fatalf("bad row accepted: %+v", r)
			}
		}
	})
}
