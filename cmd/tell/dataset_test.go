package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tell-project/tell/dataset"
)

func TestDatasetCommandCASME2(t *testing.T) {
	root := filepath.Join(t.TempDir(), "CASME II")
	sheet := "Subject,Filename,,OnsetFrame,ApexFrame,OffsetFrame,,Action Units,Estimated Emotion\n" +
		"1,EP02_01f,,46,59,86,,12,happiness\n" +
		"2,EP03_02,,101,/,120,,4+7,disgust\n" +
		"2,EP09_06f,,10,12,14,,R12 or 14,others\n"
	mk := func(rel string, names ...string) {
		dir := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("jpeg"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("")
	if err := os.WriteFile(filepath.Join(root, "CASME2-coding-20140508.csv"), []byte(sheet), 0o644); err != nil {
		t.Fatal(err)
	}
	mk("CASME2-RAW/sub01/EP02_01f", "img46.jpg", "img59.jpg", "img86.jpg")
	mk("CASME2-RAW/sub02/EP03_02", "img101.jpg", "img110.jpg", "img120.jpg")
	mk("CASME2-RAW/sub02/EP09_06f", "img10.jpg", "img12.jpg", "img14.jpg")
	out := filepath.Join(root, "out dir", "manifest.csv")
	os.MkdirAll(filepath.Dir(out), 0o755)

	code, stdout, stderr := runTell(t, "dataset", "casme2", "--root", root, "--out", out, "--classes", "5")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "3 samples, 2 subjects") || !strings.Contains(stdout, "disgust 1, happiness 1, others 1") {
		t.Errorf("stdout = %q", stdout)
	}
	if !strings.Contains(stderr, `note: CASME2-coding-20140508.csv row 3 column E (ApexFrame): ApexFrame "/" unknown; using the midpoint frame 110`) {
		t.Errorf("stderr = %q", stderr)
	}
	m, err := dataset.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Samples[1]; s.ID != "sub02/EP03_02" || s.Apex != "110" || s.Label != "disgust" || s.Frames != filepath.Join(root, "CASME2-RAW", "sub02", "EP03_02") {
		t.Errorf("sample = %+v", s)
	}
}

func TestDatasetCommandErrors(t *testing.T) {
	empty := t.TempDir()
	out := filepath.Join(empty, "m.csv")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dataset", "casme2", "--root", empty, "--out", out}, 1, "CASME2-coding*.xlsx"},
		{[]string{"dataset", "samm", "--root", empty, "--out", out}, 1, "SAMM_Micro_FACS_Codes*.xlsx"},
		{[]string{"dataset", "smic", "--root", empty, "--out", out}, 1, "sN_po_NN"},
		{[]string{"dataset", "casme3", "--root", empty, "--out", out}, 1, "cas(me)3*part*A*.xlsx"},
		{[]string{"dataset", "casme2", "--out", out}, 2, "--root is required"},
		{[]string{"dataset", "casme2", "--root", empty}, 2, "--out is required"},
		{[]string{"dataset", "composite", "--casme2", empty, "--out", out}, 2, "--samm"},
		{[]string{"dataset", "ckplus", "--root", empty, "--out", out}, 2, "unknown dataset"},
		{[]string{"dataset"}, 2, "missing dataset name"},
	}
	for _, c := range cases {
		code, stdout, stderr := runTell(t, c.args...)
		if code != c.code || !strings.Contains(stdout+stderr, c.want) {
			t.Errorf("tell %v: exit %d, output %q; want exit %d and %q", c.args, code, stdout+stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed conversion wrote a manifest")
	}
}
