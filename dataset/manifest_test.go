package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// touch creates the file (or folder when the name ends in "/") under dir.
func touch(t testing.TB, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if strings.HasSuffix(n, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadResolvesPathsAndIgnoresUnknownColumns(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "flows/sub 01/a b.png", "faces/x.jpg", "clips/sub01/EP02_01f/")
	abs := filepath.Join(dir, "faces", "x.jpg")
	csvText := "\ufeffSample, subject ,label,extra,flow,image,frames,onset,apex,offset,aus,emotion,dataset\n" +
		"s1,sub01,negative,ignored,flows/sub 01/a b.png,,,,,,4+7,disgust,casme2\n" +
		"\n" +
		`s2,sub02,positive,"x,y",,` + abs + `,,,,,R12,happiness,samm` + "\n" +
		"s3,sub01,surprise,,,,clips/sub01/EP02_01f,46,59,86,1+2,surprise,casme2\n"
	path := filepath.Join(dir, "manifest.csv")
	writeFile(t, path, csvText)
	m, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Sample{
		{ID: "s1", Subject: "sub01", Label: "negative", Dataset: "casme2", Flow: filepath.Join(dir, "flows", "sub 01", "a b.png"), AUs: "4+7", Emotion: "disgust", Line: 2},
		{ID: "s2", Subject: "sub02", Label: "positive", Dataset: "samm", Image: abs, AUs: "R12", Emotion: "happiness", Line: 4},
		{ID: "s3", Subject: "sub01", Label: "surprise", Dataset: "casme2", Frames: filepath.Join(dir, "clips", "sub01", "EP02_01f"), Onset: "46", Apex: "59", Offset: "86", AUs: "1+2", Emotion: "surprise", Line: 5},
	}
	if !reflect.DeepEqual(m.Samples, want) {
		t.Fatalf("samples:\n got %+v\nwant %+v", m.Samples, want)
	}
	if got := m.Subjects(); !reflect.DeepEqual(got, []string{"sub01", "sub02"}) {
		t.Errorf("Subjects = %v", got)
	}
	if got := m.Labels(); !reflect.DeepEqual(got, []string{"negative", "positive", "surprise"}) {
		t.Errorf("Labels = %v", got)
	}
}

func TestReadListsEveryBadRow(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "a.png", "d/")
	text := "sample,subject,label,image,frames\n" +
		"s1,p1,neg,a.png,\n" + // fine
		"s1,p2,pos,a.png,\n" + // duplicate id
		"s3,,pos,a.png,\n" + // empty subject
		"s4,p3,,a.png,\n" + // empty label
		"s5,p3,neg,missing file.png,\n" + // missing file
		"s6,p3,neg,,\n" + // no input
		"s7,p3,neg,a.png\n" + // too few fields
		"s8,p3,neg,d,\n" + // folder given as image
		"s9,p3,neg,,a.png\n" // file given as frames folder
	path := filepath.Join(dir, "m.csv")
	writeFile(t, path, text)
	_, err := Read(path)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	wantLines := []int{3, 4, 5, 6, 7, 8, 9, 10}
	var gotLines []int
	for _, p := range ve.Problems {
		gotLines = append(gotLines, p.Line)
	}
	if !reflect.DeepEqual(gotLines, wantLines) {
		t.Fatalf("problem lines = %v, want %v\n%v", gotLines, wantLines, err)
	}
	msg := err.Error()
	for _, frag := range []string{path, "line 3", `duplicate sample id "s1" (first on line 2)`, "empty subject", "empty label",
		"missing file", "missing file.png", "no input", "4 fields, header has 5", "is a folder", "is not a folder"} {
		if !strings.Contains(msg, frag) {
			t.Errorf("error lacks %q:\n%s", frag, msg)
		}
	}
}

func TestReadHeaderProblems(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string
	}{
		{"empty", "", []string{"header row is required"}},
		{"no label", "sample,subject,image\n", []string{`column "label": required column missing`}},
		{"no input", "sample,subject,label\n", []string{"no input column"}},
		{"dup column", "sample,subject,label,image,Image\n", []string{`column "image": duplicate column`}},
		{"no rows", "sample,subject,label,image\n", []string{"no samples"}},
		{"bad quote", "sample,subject,label,image\ns1,p,\"l,a\n", []string{"line 2"}},
		// The record starting on line 3 is named, not the end of the file.
		{"late quote", "sample,subject,label,image\ns1,p,l,a\ns2,p,\"l,a\ns3,p,l,a\n\n", []string{"line 3:", "not read"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(c.text), t.TempDir(), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestReadOptionsRelax(t *testing.T) {
	text := "sample,subject,image\ns1,p1,nowhere.png\n"
	m, err := Parse(strings.NewReader(text), t.TempDir(), Options{AllowUnlabelled: true, SkipFileCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Samples) != 1 || m.Samples[0].Label != "" {
		t.Fatalf("samples = %+v", m.Samples)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	out := t.TempDir()
	touch(t, dir, "data set/sub 1/clip 1/", "data set/img, \"quoted\".png")
	touch(t, out, "local/flow.png")
	samples := []Sample{
		{ID: "a", Subject: "sub 1", Label: "negative", Dataset: "casme2", Frames: filepath.Join(dir, "data set", "sub 1", "clip 1"),
			Onset: "1", Apex: "img5.jpg", Offset: "9", AUs: "4+7", Emotion: "disgust"},
		{ID: "b,c", Subject: "sub2", Label: "positive", Image: filepath.Join(dir, "data set", `img, "quoted".png`), AUs: "R12A+L14"},
		{ID: "d", Subject: "sub3", Label: "surprise", Flow: filepath.Join(out, "local", "flow.png")},
	}
	if err := Validate(samples, Options{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, "m.csv")
	if err := Write(path, samples); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw, []byte(",local/flow.png")) {
		t.Errorf("path inside the manifest folder not written relative:\n%s", raw)
	}
	m, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Samples {
		m.Samples[i].Line = 0
	}
	if !reflect.DeepEqual(m.Samples, samples) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", m.Samples, samples)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(out)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestValidateInMemory(t *testing.T) {
	err := Validate([]Sample{{ID: "a", Subject: "s", Label: "x", Image: "i"}, {ID: "a", Subject: "s", Label: "x", Image: "i"}}, Options{SkipFileCheck: true})
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzParse checks that no input makes the reader panic, that errors are
// well-formed, and that what it accepts survives a write/read round trip.
func FuzzParse(f *testing.F) {
	f.Add("sample,subject,label,image\ns1,p1,neg,a.png\n")
	f.Add("\ufeffsample,subject,label,frames,onset,apex,offset\n\"s 1\",p,\"l,x\",\"d d\",1,/,3\n")
	f.Add("sample,subject,label,flow,extra\ns1,p1,neg,f.png,1,2,3\n,,,\n")
	f.Add("sample,subject,label,image\ns1,p,\"unterminated\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := Parse(strings.NewReader(text), "/base", Options{SkipFileCheck: true})
		if err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) && len(ve.Problems) == 0 {
				t.Fatalf("validation error without problems")
			}
			return
		}
		var buf bytes.Buffer
		if err := Encode(&buf, "/base", m.Samples); err != nil {
			t.Fatal(err)
		}
		m2, err := Parse(&buf, "/base", Options{SkipFileCheck: true})
		if err != nil {
			t.Fatalf("re-read of written manifest failed: %v\n%s", err, buf.String())
		}
		if len(m2.Samples) != len(m.Samples) {
			t.Fatalf("round trip changed sample count %d → %d", len(m.Samples), len(m2.Samples))
		}
		for i := range m.Samples {
			a, b := m.Samples[i], m2.Samples[i]
			a.Line, b.Line = 0, 0
			if a != b {
				t.Fatalf("round trip changed sample %d:\n%+v\n%+v", i, a, b)
			}
		}
	})
}

func ExampleRead() {
	dir, _ := os.MkdirTemp("", "manifest")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "apex 1.png"), []byte("png"), 0o644)
	os.WriteFile(filepath.Join(dir, "m.csv"), []byte("sample,subject,label,image\nclip1,sub01,negative,apex 1.png\n"), 0o644)
	m, err := Read(filepath.Join(dir, "m.csv"))
	if err != nil {
		fmt.Println(err)
		return
	}
	s := m.Samples[0]
	fmt.Println(s.ID, s.Subject, s.Label, filepath.Base(s.Image), filepath.IsAbs(s.Image))
	// Output: clip1 sub01 negative apex 1.png true
}

func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("sample,subject,label,dataset,frames,onset,apex,offset,aus,emotion\n")
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&sb, "s%05d,sub%02d,negative,casme2,clips/sub%02d/EP%05d,%d,%d,%d,4+7,disgust\n", i, i%26, i%26, i, i, i+5, i+9)
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := Parse(strings.NewReader(text), "/data", Options{SkipFileCheck: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUsable: rows with problems are left out with their problems (the
// row too short to read first), the others kept in order; a broken quote
// that stopped the reader is fatal, as is a file that cannot be read.
func TestUsable(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "a.png")
	text := "sample,subject,label,image,frames\n" +
		"s1,p1,neg,a.png,\n" + // fine
		"s1,p2,pos,a.png,\n" + // duplicate id
		"s3,p3,neg,a.png\n" + // too few fields: no sample
		"s4,p3,pos,a.png,\n" // fine
	path := filepath.Join(dir, "m.csv")
	writeFile(t, path, text)
	good, skipped, err := Usable(Read(path))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range good {
		ids = append(ids, s.ID)
	}
	if !reflect.DeepEqual(ids, []string{"s1", "s4"}) || len(skipped) != 2 ||
		!strings.Contains(skipped[0], "line 4") || !strings.Contains(skipped[1], "duplicate sample id") {
		t.Errorf("kept %v, skipped %q", ids, skipped)
	}
	writeFile(t, path, "sample,subject,label,image,frames\ns1,p1,neg,a.png,\n\"s2,p1,neg,a.png,\n")
	if _, _, err := Usable(Read(path)); err == nil {
		t.Error("a broken quote was skipped, not fatal")
	}
	if _, _, err := Usable(Read(filepath.Join(dir, "none.csv"))); err == nil {
		t.Error("a missing manifest was not fatal")
	}
}
