package cot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestApexFrame(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"img45.jpg", "img46.jpg", "img460.jpg", "notes.txt", "006_05562.jpg", "a7.png", "b7.png"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ apex, want, err string }{
		{"46", "img46.jpg", ""},
		{"046", "img46.jpg", ""},
		{"5562", "006_05562.jpg", ""},
		{"img45.jpg", "img45.jpg", ""},
		{"47", "", "no frame numbered 47"},
		{"7", "", "ambiguous"},
		{"x", "", "neither"},
		{"img99.jpg", "", "not found"},
	}
	for _, tc := range tests {
		got, err := ApexFrame(dir, tc.apex)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ApexFrame(%q): %v, want error with %q", tc.apex, err, tc.err)
			}
			continue
		}
		if err != nil || got != filepath.Join(dir, tc.want) {
			t.Errorf("ApexFrame(%q) = %q, %v", tc.apex, got, err)
		}
	}
}

func TestExportFormats(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "f.png")
	os.WriteFile(img, nil, 0o644)
	recs := []Record{
		{ID: "a", Label: "happiness", Image: img, AUs: "6+12"},
		{ID: "b", Label: "disgust", Image: img, AUs: "4+7"},
		{ID: "c", Label: "surprise", Image: img},
	}
	for _, f := range []Format{FormatExpLLM, FormatLLaVA, FormatShareGPT} {
		var buf bytes.Buffer
		sum, err := Export(context.Background(), &buf, recs, ExportOptions{Format: f, BaseDir: dir, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Written != 3 || sum.WithCoT != 2 || sum.NoAUs != 1 || len(sum.Problems) != 1 {
			t.Errorf("%s: %+v", f, sum)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		for _, l := range lines {
			if !json.Valid([]byte(l)) {
				t.Fatalf("%s: invalid JSON line %s", f, l)
			}
			if !strings.Contains(l, `"f.png"`) || !strings.Contains(l, "<image>") {
				t.Errorf("%s: %s", f, l)
			}
		}
		// Reproducible for a seed.
		var again bytes.Buffer
		Export(context.Background(), &again, recs, ExportOptions{Format: f, BaseDir: dir, Seed: 9})
		if again.String() != buf.String() {
			t.Errorf("%s: export not deterministic", f)
		}
	}
	if _, err := Export(context.Background(), io.Discard, recs, ExportOptions{Format: "csv"}); err == nil {
		t.Error("unknown format accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Export(ctx, io.Discard, recs, ExportOptions{Format: FormatLLaVA}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled export: %v", err)
	}
}

func BenchmarkExport(b *testing.B) {
	dir := b.TempDir()
	img := filepath.Join(dir, "f.png")
	os.WriteFile(img, nil, 0o644)
	codes := []string{"6+12", "4+7", "R12A+R14A", "1+2+5B+26", "9+15+16", "1+4+15", "4+5+7+23"}
	recs := make([]Record, 100)
	for i := range recs {
		recs[i] = Record{ID: string(rune('a'+i%26)) + strings.Repeat("x", i/26), Label: []string{"happiness", "disgust", "contempt", "surprise", "disgust", "sadness", "anger"}[i%7], Image: img, AUs: codes[i%7]}
	}
	for b.Loop() {
		if _, err := Export(context.Background(), io.Discard, recs, ExportOptions{Format: FormatLLaVA}); err != nil {
			b.Fatal(err)
		}
	}
}
