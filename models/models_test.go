package models

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPins(t *testing.T) {
	for _, m := range append(All(), BlazeFace(), Iris()) {
		for _, f := range m.Files {
			if _, ok := pin(m.Package, f); !ok {
				t.Errorf("%s: %s not pinned", m.Name, f)
			}
		}
		if !strings.Contains(strings.Join(m.Files, " "), m.Entry) {
			t.Errorf("%s: entry %s not among its files", m.Name, m.Entry)
		}
	}
	if _, err := parsePins([]byte("pkg@1 file nothex 12\n")); err == nil {
		t.Error("bad sha accepted")
	}
	if _, err := parsePins([]byte("pkg@1 file\n")); err == nil {
		t.Error("short line accepted")
	}
	if _, err := ByName("nope"); err == nil || !strings.Contains(err.Error(), "faceapi") {
		t.Errorf("ByName: %v", err)
	}
}

func TestRoot(t *testing.T) {
	t.Setenv(Env, "/from/env")
	if r := Root("/flag"); r != "/flag" {
		t.Errorf("flag: %s", r)
	}
	if r := Root(""); r != "/from/env" {
		t.Errorf("env: %s", r)
	}
	t.Setenv(Env, "")
	t.Setenv("XDG_DATA_HOME", "/xdg")
	if r := Root(""); r != "/xdg/tell/models" {
		t.Errorf("default: %s", r)
	}
}

// TestLocateErrors: missing, short and altered files are refused with a
// message that says what to do.
func TestLocateErrors(t *testing.T) {
	root := t.TempDir()
	_, err := Locate(root, FaceAPI())
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), InstallCommand) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("missing model: %v", err)
	}
	dir := FaceAPI().Dir(root)
	for _, f := range FaceAPI().Files {
		p, _ := pin(FaceAPI().Package, f)
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), make([]byte, p.Size), 0o644) // right size, wrong bytes
	}
	if _, err := Locate(root, FaceAPI()); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("altered file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, FaceAPI().Files[0]), []byte("x"), 0o644)
	if _, err := Locate(root, FaceAPI()); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Fatalf("short file: %v", err)
	}
}

// TestLocateInstalled checks the models installed by scripts/deps.sh.
func TestLocateInstalled(t *testing.T) {
	for _, m := range All() {
		p, err := Locate(Root(""), m)
		if errors.Is(err, ErrNotInstalled) && !Required() {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) != filepath.Base(m.Entry) {
			t.Errorf("%s: entry %s", m.Name, p)
		}
	}
}
