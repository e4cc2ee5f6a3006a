package llm

import (
	"fmt"
	"log/slog"
	"strings"
)

// Secret holds an API key. Every way of printing it — fmt verbs, slog, JSON —
// yields "[redacted]", so a key put in a struct that gets logged or written
// stays out of logs and output files. Reveal returns the key itself for the
// Authorization header only.
type Secret struct{ s string }

// NewSecret wraps a key.
func NewSecret(key string) Secret { return Secret{s: strings.TrimSpace(key)} }

// Reveal returns the key.
func (k Secret) Reveal() string { return k.s }

// IsZero reports whether no key is set.
func (k Secret) IsZero() bool { return k.s == "" }

const redacted = "[redacted]"

// String implements fmt.Stringer.
func (k Secret) String() string {
	if k.s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer (%#v).
func (k Secret) GoString() string { return k.String() }

// Format implements fmt.Formatter so that every verb redacts.
func (k Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// LogValue implements slog.LogValuer.
func (k Secret) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalJSON implements json.Marshaler.
func (k Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + k.String() + `"`), nil }

// MarshalText implements encoding.TextMarshaler.
func (k Secret) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// scrub removes the key from s, for error texts that a server may echo it in.
func (k Secret) scrub(s string) string {
	if len(k.s) < 4 {
		return s
	}
	return strings.ReplaceAll(s, k.s, redacted)
}
