package models

import (
	"flag"
	"io"
	"testing"
)

func TestDirVar(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var dir string
	DirVar(fs, &dir)
	if err := fs.Parse([]string{"--models", "/m"}); err != nil || dir != "/m" || Root(dir) != "/m" {
		t.Errorf("--models /m: %q, %v", dir, err)
	}
}
