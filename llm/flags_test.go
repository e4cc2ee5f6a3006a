package llm

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// TestFlags: defaults come from the environment, the key never shows in
// the flag's printed value, and flags override the environment.
func TestFlags(t *testing.T) {
	env := map[string]string{EnvURL: "http://env:1", EnvModel: "m-env", EnvOpenAIKey: "sk-env"}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := AddFlags(fs, func(k string) string { return env[k] })
	if f.URL != "http://env:1" || f.Model != "m-env" || f.Key.Reveal() != "sk-env" || f.MaxTokens != 1024 {
		t.Fatalf("defaults %+v", f)
	}
	if err := fs.Parse([]string{"--llm-model", "m2", "--llm-api-key", "sk-flag", "--llm-retries", "0"}); err != nil {
		t.Fatal(err)
	}
	if v := fs.Lookup("llm-api-key").Value.String(); f.Key.Reveal() != "sk-flag" || strings.Contains(v, "sk-flag") {
		t.Errorf("the key shows in the flag's value: %q", v)
	}
	c, err := f.Client("http://other:2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Model() != "m2" || !strings.HasPrefix(c.Endpoint(), "http://other:2") {
		t.Errorf("client %s %s", c.Model(), c.Endpoint())
	}
	if m := f.Reasoner(c, nil); m.MaxTokens != 1024 || m.Client != c {
		t.Errorf("reasoner %+v", m)
	}
	// Values Config would quietly replace by its defaults are refused.
	for _, arg := range []string{"--llm-timeout=-1s", "--llm-retries=-2", "--llm-concurrency=0", "--llm-max-tokens=0"} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		f := AddFlags(fs, func(k string) string { return env[k] })
		if err := fs.Parse([]string{arg}); err != nil {
			t.Fatal(err)
		}
		name, _, _ := strings.Cut(arg, "=")
		if _, err := f.Client("", nil); err == nil || !strings.HasPrefix(err.Error(), name+" ") {
			t.Errorf("%s: %v, want an error naming the flag", arg, err)
		}
	}
}
