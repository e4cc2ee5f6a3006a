package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeExportFixture(t *testing.T) (dir, manifest string) {
	t.Helper()
	dir = t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "a face.png"), []byte("png"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "clip"), 0o755))
	for _, n := range []string{"reg_img1.jpg", "reg_img2.jpg", "reg_img3.jpg"} {
		must(os.WriteFile(filepath.Join(dir, "clip", n), []byte("jpg"), 0o644))
	}
	manifest = filepath.Join(dir, "m.csv")
	csv := `sample,subject,label,dataset,image,frames,apex,aus
s1,sub1,happiness,SAMM,a face.png,,,6+12
s2,sub1,disgust,CASME II,,clip,2,4+7
s3,sub2,surprise,,a face.png,,,
s4,sub2,happiness,,missing.png,,,6+12
s5,sub2,,,a face.png,,,6+12
s6,sub3,happiness,,a face.png,,,4+7
s7,sub3,anger,,a face.png,,,4+x
s8,sub3,anger,,,,,4+5+7+23
s9,sub4,contempt,,a face.png,,,R12A+R14A
s10,sub4,anger,,a face.png,,,soft focus
`
	must(os.WriteFile(manifest, []byte(csv), 0o644))
	return dir, manifest
}

func TestExportCommand(t *testing.T) {
	dir, manifest := writeExportFixture(t)
	for _, format := range []string{"expllm", "llava", "sharegpt"} {
		out := filepath.Join(dir, format+".jsonl")
		code, stdout, stderr := runTell(t, "export", "--manifest", manifest, "--format", format, "--out", out, "--seed", "3")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", format, code, stderr)
		}
		// s7's "4+x" is partly FACS: its CoT comes from AU4; s10 has none.
		for _, want := range []string{"rows=9", "written=7", "with_cot=4", "part_aus=1", "label_only=3", "no_aus=1", "bad_aus=1", "flagged=1", "no_image=1", "no_label=1", "invalid_rows=1"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: summary %q lacks %s", format, stdout, want)
			}
		}
		for _, want := range []string{"line 9", "line 5 (s4)", "line 6 (s5)", `"x"`, "does not support label \"happiness\""} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: report lacks %q:\n%s", format, want, stderr)
			}
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != 7 {
			t.Fatalf("%s: %d lines", format, len(lines))
		}
		for i, l := range lines {
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("%s line %d does not parse: %v", format, i+1, err)
			}
			switch format {
			case "llava":
				conv, ok := v["conversations"].([]any)
				if _, hasImg := v["image"].(string); !hasImg || !ok || len(conv) < 2 {
					t.Fatalf("llava line %d lacks image/conversations: %s", i+1, l)
				}
				first := conv[0].(map[string]any)
				if first["from"] != "human" || !strings.HasPrefix(first["value"].(string), "<image>") {
					t.Errorf("llava first turn %v", first)
				}
			case "sharegpt":
				if _, ok := v["messages"].([]any); !ok {
					t.Errorf("sharegpt line %d lacks messages", i+1)
				}
			case "expllm":
				if _, ok := v["tasks"].([]any); !ok || v["system"] == "" {
					t.Errorf("expllm line %d lacks tasks/system", i+1)
				}
			}
		}
		// Paths are relative to the output folder; the apex frame is found.
		if !strings.Contains(string(data), `"a face.png"`) || !strings.Contains(string(data), "clip/reg_img2.jpg") {
			t.Errorf("%s: image paths wrong:\n%s", format, data)
		}
		if !strings.Contains(string(data), "**Conclusion:**") {
			t.Errorf("%s: no CoT turn", format)
		}
		if format == "expllm" && !strings.Contains(string(data), `"aus":"4","aus_raw":"4+x"`) {
			t.Errorf("expllm: the partly FACS AU string is not exported as aus and aus_raw:\n%s", data)
		}
	}
	// Leftover temporary files would mean a non-atomic write.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestExportCommandErrors(t *testing.T) {
	dir, manifest := writeExportFixture(t)
	out := filepath.Join(dir, "x.jsonl")
	if code, _, _ := runTell(t, "export", "--manifest", manifest, "--format", "csv", "--out", out); code != 2 {
		t.Errorf("bad format: exit %d", code)
	}
	if code, _, _ := runTell(t, "export", "--manifest", manifest, "--out", out); code != 2 {
		t.Errorf("missing --format: exit %d", code)
	}
	if code, _, errOut := runTell(t, "export", "--manifest", filepath.Join(dir, "none.csv"), "--format", "llava", "--out", out); code != 1 || !strings.Contains(errOut, "none.csv") {
		t.Errorf("missing manifest: exit %d %q", code, errOut)
	}
	// Nothing exportable: error, and no output file.
	empty := filepath.Join(dir, "e.csv")
	os.WriteFile(empty, []byte("sample,subject,label,image\ns1,a,,x.png\n"), 0o644)
	if code, _, _ := runTell(t, "export", "--manifest", empty, "--format", "llava", "--out", out); code != 1 {
		t.Errorf("nothing exportable: exit %d", code)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output written although the export failed")
	}
}

// A broken quote stops the manifest reader: export must fail rather than
// write the rows before it and silently drop the rest; a row too short to
// read must be reported, not dropped without a word.
func TestExportBrokenRows(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f.png"), []byte("png"), 0o644)
	out := filepath.Join(dir, "x.jsonl")
	quote := filepath.Join(dir, "q.csv")
	os.WriteFile(quote, []byte("sample,subject,label,image,aus\ns1,a,happiness,f.png,6+12\ns2,b,\"disgust,f.png,4+7\ns3,c,anger,f.png,4+5\n"), 0o644)
	code, _, errOut := runTell(t, "export", "--manifest", quote, "--format", "llava", "--out", out)
	if code != 1 || !strings.Contains(errOut, "line 3") || !strings.Contains(errOut, "not read") {
		t.Errorf("broken quote: exit %d %q; want exit 1 naming line 3", code, errOut)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output written from a manifest that could not be read to the end")
	}
	short := filepath.Join(dir, "s.csv")
	os.WriteFile(short, []byte("sample,subject,label,image,aus\ns1,a,happiness,f.png,6+12\ns2,b\ns3,c,disgust,f.png,4+7\n"), 0o644)
	code, stdout, errOut := runTell(t, "export", "--manifest", short, "--format", "llava", "--out", out)
	if code != 0 || !strings.Contains(errOut, "line 3: 2 fields") || !strings.Contains(stdout, "written=2") || !strings.Contains(stdout, "invalid_rows=1") {
		t.Errorf("short row: exit %d\n%s%s", code, stdout, errOut)
	}
}
