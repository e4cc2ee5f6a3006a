package dataset

import (
	"bytes"
	"testing"
)

func TestConversionPrint(t *testing.T) {
	c := &Conversion{Samples: []Sample{{Label: "b", Subject: "s1"}, {Label: "a", Subject: "s1"}, {Label: "b", Subject: "s2"}},
		Notes: []string{"n1"}, Warnings: []string{"w1", "w2"}, Dropped: map[string]int{"fear": 2}}
	var out, notes bytes.Buffer
	c.PrintNotes(&notes)
	c.Print(&out, "m.csv", "3")
	if got, want := notes.String(), "note: n1\nwarning: w1\nwarning: w2\n"; got != want {
		t.Errorf("notes %q, want %q", got, want)
	}
	want := "wrote m.csv: 3 samples, 2 subjects, 1 note, 2 warnings\nlabels: a 1, b 2\nleft out by --classes \"3\": fear 2\n"
	if got := out.String(); got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}
