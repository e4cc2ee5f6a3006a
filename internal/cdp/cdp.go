// Package cdp drives a headless Chromium through the Chrome DevTools
// Protocol over a pipe (--remote-debugging-pipe: commands in on the
// browser's fd 3, answers and events out on fd 4, each a JSON message
// ended by a NUL byte), so that tests can load a page, click at a point
// and read the page's state, with no network, no driver program and no
// dependency beyond the Chromium binary.
//
// Limits: one page per Browser; a test helper, not a general client (no
// reconnection, events other than console output and load are dropped).
package cdp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// flags are the Chromium flags every Browser starts with: headless, no
// sandbox (tests run as root in containers), nothing that reaches the
// network on its own.
var flags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-pipe"}

// Browser is a Chromium process with one page.
type Browser struct {
	cmd     *exec.Cmd
	in      *os.File // our end of the browser's fd 3
	out     *os.File // our end of the browser's fd 4
	session string

	mu      sync.Mutex
	next    int
	waiting map[int]chan reply
	loaded  chan struct{}
	console []string
	done    chan struct{}
	err     error
}

type reply struct {
	Result json.RawMessage
	Err    *struct {
		Message string `json:"message"`
	}
}

// Start starts chromium (a path) with a fresh profile in profileDir and
// opens one blank page.
func Start(ctx context.Context, chromium, profileDir string, extra ...string) (*Browser, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	args := append(append([]string{}, flags...), "--user-data-dir="+profileDir)
	args = append(args, extra...)
	cmd := exec.CommandContext(ctx, chromium, args...)
	cmd.ExtraFiles = []*os.File{inR, outW}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cdp: start %s: %w", chromium, err)
	}
	inR.Close()
	outW.Close()
	b := &Browser{cmd: cmd, in: inW, out: outR, waiting: map[int]chan reply{}, loaded: make(chan struct{}, 8), done: make(chan struct{})}
	go b.read()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		b.Close()
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		b.Close()
		return nil, err
	}
	b.session = att.SessionID
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		if err := b.call(ctx, b.session, m, nil, nil); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// read dispatches the browser's messages until its pipe closes.
func (b *Browser) read() {
	defer close(b.done)
	r := bufio.NewReaderSize(b.out, 1<<20)
	for {
		msg, err := r.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.err = fmt.Errorf("cdp: browser pipe: %w", err)
			for id, ch := range b.waiting {
				close(ch)
				delete(b.waiting, id)
			}
			b.mu.Unlock()
			return
		}
		var m struct {
			ID     int             `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil {
			continue
		}
		switch {
		case m.ID != 0:
			b.mu.Lock()
			ch := b.waiting[m.ID]
			delete(b.waiting, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- reply{Result: m.Result, Err: m.Error}
			}
		case m.Method == "Page.loadEventFired":
			select {
			case b.loaded <- struct{}{}:
			default:
			}
		case m.Method == "Runtime.exceptionThrown", m.Method == "Runtime.consoleAPICalled", m.Method == "Log.entryAdded":
			b.mu.Lock()
			b.console = append(b.console, m.Method+": "+string(m.Params))
			b.mu.Unlock()
		}
	}
}

// call sends one command (to the page's session unless session is "")
// and decodes its result into result (nil: ignored).
func (b *Browser) call(ctx context.Context, session, method string, params any, result any) error {
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return b.err
	}
	b.next++
	id := b.next
	ch := make(chan reply, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	m := map[string]any{"id": id, "method": method}
	if params != nil {
		m["params"] = params
	}
	if session != "" {
		m["sessionId"] = session
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := b.in.Write(append(data, 0)); err != nil {
		return fmt.Errorf("cdp: %s: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("cdp: %s: the browser went away", method)
		}
		if r.Err != nil {
			return fmt.Errorf("cdp: %s: %s", method, r.Err.Message)
		}
		if result != nil {
			return json.Unmarshal(r.Result, result)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cdp: %s: %w", method, ctx.Err())
	}
}

// Navigate loads url and waits for its load event.
func (b *Browser) Navigate(ctx context.Context, url string) error {
	for len(b.loaded) > 0 {
		<-b.loaded
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := b.call(ctx, b.session, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return err
	}
	if nav.ErrorText != "" {
		return fmt.Errorf("cdp: navigate %s: %s", url, nav.ErrorText)
	}
	select {
	case <-b.loaded:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cdp: waiting for %s to load: %w", url, ctx.Err())
	}
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise)
// and decodes its value into result.
func (b *Browser) Eval(ctx context.Context, expr string, result any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := b.call(ctx, b.session, "Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("cdp: %s: %s %s", expr, r.Exception.Text, r.Exception.Exception.Description)
	}
	if result == nil || len(r.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result.Value, result)
}

// WaitFor evaluates a boolean expression until it is true.
func (b *Browser) WaitFor(ctx context.Context, expr string) error {
	for {
		var ok bool
		if err := b.Eval(ctx, "!!("+expr+")", &ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cdp: waiting for %s: %w", expr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Click presses and releases the left mouse button at page point (x, y)
// (CSS pixels from the viewport's top left).
func (b *Browser) Click(ctx context.Context, x, y float64) error {
	for _, typ := range []string{"mousePressed", "mouseReleased"} {
		if err := b.call(ctx, b.session, "Input.dispatchMouseEvent", map[string]any{"type": typ, "x": x, "y": y, "button": "left", "clickCount": 1}, nil); err != nil {
			return err
		}
	}
	return nil
}

// Key presses and releases a key ("ArrowRight", " ").
func (b *Browser) Key(ctx context.Context, key string) error {
	for _, typ := range []string{"keyDown", "keyUp"} {
		if err := b.call(ctx, b.session, "Input.dispatchKeyEvent", map[string]any{"type": typ, "key": key}, nil); err != nil {
			return err
		}
	}
	return nil
}

// SetViewport sets the page's size in CSS pixels.
func (b *Browser) SetViewport(ctx context.Context, w, h int) error {
	return b.call(ctx, b.session, "Emulation.setDeviceMetricsOverride", map[string]any{"width": w, "height": h, "deviceScaleFactor": 1, "mobile": false}, nil)
}

// Console returns the console messages, exceptions and log entries seen.
func (b *Browser) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// Close ends the browser.
func (b *Browser) Close() error {
	b.in.Close()
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
	}
	err := b.cmd.Wait()
	b.out.Close()
	var ee *exec.ExitError
	if errors.As(err, &ee) || err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "killed") {
		return nil
	}
	return err
}
