package cdp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

const chromium = "/usr/bin/chromium"

// TestClickAndEval loads a page from a local server, clicks a button and
// reads what its script did.
func TestClickAndEval(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil || testing.Short() {
		t.Skip("no chromium (or -short)")
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><body style="margin:0"><button id=b style="position:absolute;left:10px;top:20px;width:100px;height:40px">x</button>
<script>let n=0;document.getElementById("b").addEventListener("click",()=>{n++;document.title="clicked "+n})</script>`))
	}))
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := Start(ctx, chromium, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.SetViewport(ctx, 400, 300); err != nil {
		t.Fatal(err)
	}
	if err := b.Navigate(ctx, ts.URL); err != nil {
		t.Fatal(err)
	}
	if err := b.Click(ctx, 50, 40); err != nil {
		t.Fatal(err)
	}
	var title string
	if err := b.Eval(ctx, "document.title", &title); err != nil || title != "clicked 1" {
		t.Errorf("title %q (%v), want clicked 1", title, err)
	}
	if err := b.Eval(ctx, "nosuch()", nil); err == nil {
		t.Error("a script error was not reported")
	}
	if err := b.Eval(ctx, "console.log('hello')", nil); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitFor(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if c := b.Console(); len(c) == 0 {
		t.Error("console output not seen")
	}
}
