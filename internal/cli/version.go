package cli

import (
	"runtime/debug"
	"strings"
)

// Version reports the build from the Go toolchain's build info: the main
// module's version (a release tag, or the pseudo-version Go derives from
// the commit) and the VCS revision it was built from, "+modified" when
// the checkout had uncommitted changes. A build without VCS stamping
// (-buildvcs=false, or outside a git checkout) says so.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(no build info)"
	}
	return versionOf(info)
}

// versionOf formats a build info: "v0.0.0-2026…-458a258b86a8 (git
// 458a258b86a8, 2026-12-07T13:56:43Z)".
func versionOf(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v + " (no VCS revision: built with -buildvcs=false or outside a git checkout)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	parts := []string{"git " + rev}
	if modified {
		parts[0] += "+modified"
	}
	if at != "" {
		parts = append(parts, at)
	}
	return v + " (" + strings.Join(parts, ", ") + ")"
}
