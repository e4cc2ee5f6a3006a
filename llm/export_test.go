package llm

import (
	"context"
	"strings"
	"time"
)

// SetSleep replaces the client's backoff wait, so tests can see the delays
// without waiting them out.
func SetSleep(c *Client, f func(ctx context.Context, d time.Duration) error) { c.sleep = f }

// Backoff exposes the backoff schedule.
func Backoff(c *Client, attempt int) time.Duration { return c.backoff(attempt) }

// RetryAfter exposes header parsing.
var RetryAfter = retryAfter

// ReadStream exposes the server-sent-events reader.
func ReadStream(s string) (*Completion, error) {
	return (&Client{}).readStream(strings.NewReader(s), nil)
}
