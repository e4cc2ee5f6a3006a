package llm_test

import (
	"strings"
	"testing"

	"github.com/tell-project/tell/llm"
)

func TestReadStreamEdgeCases(t *testing.T) {
	cases := []struct {
		name, in, want, err string
	}{
		{"two events", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", "ab", ""},
		{"CRLF line ends", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"r\"}}]}\r\n\r\ndata: [DONE]\r\n\r\n", "r", ""},
		{"no [DONE] but finished", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"length\"}]}\n", "x", ""},
		{"cut off", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n", "", "before [DONE]"},
		{"other choices ignored", "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"no\"}},{\"index\":0,\"delta\":{\"content\":\"yes\"}}]}\n\ndata: [DONE]\n\n", "yes", ""},
		{"comments and events skipped", ": ping\nevent: message\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"k\"}}]}\n\ndata:[DONE]\n\n", "k", ""},
		{"error event", "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n", "", "overloaded"},
		{"malformed event", "data: {oops\n\n", "", "malformed stream event"},
	}
	for _, tc := range cases {
		c, err := llm.ReadStream(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || c.Content != tc.want {
			t.Errorf("%s: %+v %v", tc.name, c, err)
		}
	}
}

func FuzzReadStream(f *testing.F) {
	f.Add("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}],\"usage\":{\"total_tokens\":3}}\n\ndata: [DONE]\n\n")
	f.Add(": x\n\ndata: {\"error\":\"e\"}\n\n")
	f.Add("data: [DONE]")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := llm.ReadStream(s)
		if err == nil && c == nil {
			t.Fatal("nil completion without an error")
		}
	})
}
