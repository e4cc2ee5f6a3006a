package dataset

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// PrintNotes writes the conversion's notes and warnings, one a line.
func (c *Conversion) PrintNotes(w io.Writer) {
	for _, n := range c.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	for _, n := range c.Warnings {
		fmt.Fprintln(w, "warning:", n)
	}
}

// Print writes the conversion's summary (tell dataset): where the
// manifest went (out), the samples, subjects, notes and warnings, the rows
// per label and those the class scheme (classes, as given) left out.
func (c *Conversion) Print(w io.Writer, out, classes string) {
	counts := map[string]int{}
	subjects := map[string]bool{}
	for _, s := range c.Samples {
		counts[s.Label]++
		subjects[s.Subject] = true
	}
	fmt.Fprintf(w, "wrote %s: %s, %s, %s, %s\n", out, plural(len(c.Samples), "sample"), plural(len(subjects), "subject"),
		plural(len(c.Notes), "note"), plural(len(c.Warnings), "warning"))
	fmt.Fprintf(w, "labels: %s\n", countList(counts))
	if len(c.Dropped) > 0 {
		fmt.Fprintf(w, "left out by --classes %q: %s\n", classes, countList(c.Dropped))
	}
}

// countList formats counts as "a 3, b 1", sorted by name.
func countList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// plural is "1 sample", "2 samples".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
