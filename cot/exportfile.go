package cot

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tell-project/tell/atomicfile"
)

// ExportFile is Export into the file path, written whole or not at all
// (a temporary file renamed into place); an export that writes no record
// fails.
func ExportFile(ctx context.Context, path string, recs []Record, o ExportOptions) (ExportSummary, error) {
	var sum ExportSummary
	err := atomicfile.Write(path, func(w io.Writer) error {
		var err error
		sum, err = Export(ctx, w, recs, o)
		if err == nil && sum.Written == 0 {
			err = errors.New("no exportable row")
		}
		return err
	})
	return sum, err
}

// PrintProblems writes the export's problems, one a line after prefix: at
// most max of them, then how many more there are.
func (s ExportSummary) PrintProblems(w io.Writer, prefix string, max int) {
	for i, p := range s.Problems {
		if i == max {
			fmt.Fprintf(w, "%s... and %d more\n", prefix, len(s.Problems)-max)
			break
		}
		fmt.Fprintf(w, "%s%s\n", prefix, p)
	}
}
