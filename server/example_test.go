package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/tell-project/tell/queue"
	"github.com/tell-project/tell/server"
)

// Example serves the API on a loopback test listener and asks it for the
// chain of thought behind AU 6+12.
func Example() {
	// Jobs live on NATS JetStream: here a server embedded in the process,
	// keeping its files in a temporary folder.
	dir, _ := os.MkdirTemp("", "tell-example-")
	defer os.RemoveAll(dir)
	nats, err := queue.StartEmbedded(queue.EmbeddedOptions{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nats.Shutdown()
	nc, err := nats.Connect("example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	q, err := queue.Open(context.Background(), nc, queue.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := server.New(server.Config{Queue: q})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	resp, err := http.Post(ts.URL+"/v1/cot", "application/json", strings.NewReader(`{"aus":"6+12","seed":1}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var c struct {
		Conclusion struct {
			Label string `json:"label"`
		} `json:"conclusion"`
		Text string `json:"text"`
	}
	json.NewDecoder(resp.Body).Decode(&c)
	fmt.Println(resp.StatusCode, c.Conclusion.Label)
	fmt.Println(strings.SplitN(c.Text, "\n", 2)[0])

	resp, _ = http.Get(ts.URL + "/v1/jobs/0123456789abcdef0123456789abcdef")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output:
	// 200 happiness
	// **Key Observations:**
	// 404 {
	//   "error": "no job \"0123456789abcdef0123456789abcdef\""
	// }
}

// ExampleChainOfThought answers a POST /v1/cot body without HTTP.
func ExampleChainOfThought() {
	c, err := server.ChainOfThought(server.CoTRequest{AUs: "1+2+5B+26", Label: "surprise"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Conclusion.Label, c.Verification.ReadBack)
	// Output: surprise true
}
