package server

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tell-project/tell/analyze"
	"github.com/tell-project/tell/portrait"
)

const chromium = "/usr/bin/chromium"

// chromiumDOM loads url in headless Chromium and returns the DOM after the
// scripts ran; any console line (script errors, policy violations and
// failed loads, in the page or its frames) fails the test.
func chromiumDOM(t *testing.T, url string) string { return chromiumRun(t, url, false) }

// chromiumRun loads url; allowConsole accepts console lines, for pages
// expected to log a failed request.
func chromiumRun(t *testing.T, url string, allowConsole bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--user-data-dir="+t.TempDir(),
		"--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") && !allowConsole {
			t.Errorf("console: %s", line)
		}
	}
	return string(dom)
}

func wantDOM(t *testing.T, dom string, patterns ...string) {
	t.Helper()
	for _, re := range patterns {
		if !regexp.MustCompile(re).MatchString(dom) {
			t.Errorf("page lacks %s", re)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

// TestPageInChromium loads the page in headless Chromium: with a shareable
// #aus= link the script fetches the version, asks the API for the chain of
// thought and shows it; with #job=ID it follows a finished analysis to its
// events table and framed report.
func TestPageInChromium(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("chromium not installed at " + chromium)
	}
	if testing.Short() {
		t.Skip("short mode: no browser")
	}
	cfg := Config{}
	real := true
	if _, err := analyze.NewFaceLandmarker(""); err != nil {
		t.Logf("dlib model not installed; the job comes from a stand-in analysis: %v", err)
		fake := newFake()
		close(fake.release)
		cfg.Analysis, real = fake.analysis(), false
	}
	_, ts := newTestServer(t, cfg)

	t.Run("cot", func(t *testing.T) {
		dom := chromiumDOM(t, ts.URL+"/#aus=6%2B12&label=happiness&seed=2")
		wantDOM(t, dom,
			`<span id="version">test-1</span>`,
			`<strong id="cot-label">happiness</strong>`,
			`<pre id="cot-text">\*\*Key Observations:\*\*`,
			`<p id="cot-state" role="status" aria-live="polite"( class="")?>Done.</p>`)
	})

	t.Run("job", func(t *testing.T) {
		code, m := upload(t, ts.URL, "astronaut.png", portrait.AstronautPNG())
		if code != http.StatusAccepted {
			t.Fatalf("upload: %d %v", code, m)
		}
		id := m["id"].(string)
		waitState(t, ts.URL, id, StateDone)
		dom := chromiumDOM(t, ts.URL+"/#job="+id)
		wantDOM(t, dom,
			`<span id="job-state" role="status" aria-live="polite"( class="")?>astronaut.png: done`,
			`<a href="/v1/jobs/`+id+`/report.html">report.html</a>`,
			`<iframe id="report" title="analysis report" src="/v1/jobs/`+id+`/report.html"></iframe>`)
		if real {
			wantDOM(t, dom, `<caption>Spotted expressions</caption>`, `<td>still</td>`)
		} else {
			wantDOM(t, dom, `No expression spotted.`)
		}
	})

	t.Run("unknown job", func(t *testing.T) {
		// The API's 404 is a failed load, which Chromium reports on the
		// console; the page must still say what happened.
		dom := chromiumRun(t, ts.URL+"/#job=0123456789abcdef0123456789abcdef", true)
		wantDOM(t, dom, `class="error">Job lost: no job`)
	})
}
