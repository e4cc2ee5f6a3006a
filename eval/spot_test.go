package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/spot"
)

// TestReadSpotTruth: rows are grouped by clip in first-seen order; a row
// without onset and offset lists a clip without expressions; a clip's fps
// comes from its rows.
func TestReadSpotTruth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "truth.csv")
	os.WriteFile(path, []byte("clip,onset,offset,apex,fps\nb.mp4,10,20,15,25\na.mp4,,,,\nb.mp4,40,50,,25\n"), 0o644)
	tr, err := ReadSpotTruth(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Clips) != 2 || filepath.Base(tr.Clips[0]) != "b.mp4" || filepath.Base(tr.Clips[1]) != "a.mp4" {
		t.Fatalf("clips %v", tr.Clips)
	}
	if len(tr.Coded[tr.Clips[0]]) != 2 || len(tr.Coded[tr.Clips[1]]) != 0 || tr.FPS[tr.Clips[0]] != 25 {
		t.Fatalf("coded %v fps %v", tr.Coded, tr.FPS)
	}
	if c, n := tr.NotSingle(); c != tr.Clips[0] || n != 2 {
		t.Errorf("NotSingle = %s, %d", c, n)
	}
}

// TestSpotScore: known counts for one clip with a matched, a missed and a
// false expression; AUs are scored on the matched one only.
func TestSpotScore(t *testing.T) {
	truth := []spot.Truth{
		{Onset: 10, Apex: 15, Offset: 20, AUs: "1+2+R12"},
		{Onset: 100, Apex: 110, Offset: 120},
	}
	res := &analyze.Result{ElapsedS: 2, Events: []analyze.Event{
		{Onset: 11, Apex: 18, Offset: 21, AUs: []analyze.EventAU{{AU: 1}, {AU: 12, Side: "R"}, {AU: 4}}},
		{Onset: 60, Apex: 62, Offset: 64},
	}}
	var sc SpotScore
	line := sc.add(truth, res)
	if sc.Spotting.TP != 1 || sc.Spotting.FP != 1 || sc.Spotting.FN != 1 || len(sc.ApexErr) != 1 || sc.ApexErr[0] != 3 {
		t.Fatalf("score %+v", sc)
	}
	// Coded 1, 2, 12: found 1 and 12 (TP 2), missed 2 (FN 1), AU4 extra (FP 1).
	if sc.AUsN != 1 || sc.AUsHit != 0 || sc.AUTP != 2 || sc.AUFN != 1 || sc.AUFP != 1 {
		t.Errorf("AUs %+v", sc)
	}
	for _, want := range []string{"coded 10-15-20 spotted 11-18-21 IoU 0.83 apex err 3 AUs 1+R12+4 (coded 1+2+R12: false)", "coded 100-110-120 missed", "false 60-62-64"} {
		if !strings.Contains(line, want) {
			t.Errorf("no %q in %q", want, line)
		}
	}
	var b strings.Builder
	sc.Print(&b)
	for _, want := range []string{"tp=1\nfp=1\nfn=1\n", "apex_err_median=3.0\n", "aus_hit=0/1\n", "au_precision=0.667\nau_recall=0.667\n", "seconds=2.0\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
	if !strings.HasSuffix(b.String(), "spot_f1=0.500\n") {
		t.Errorf("spot_f1 not last or not 0.500:\n%s", b.String())
	}
}
