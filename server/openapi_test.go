package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// openAPIDoc is the subset of an OpenAPI 3 document the test reads.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas   map[string]map[string]any `json:"schemas"`
		Responses map[string]map[string]any `json:"responses"`
	} `json:"components"`
}

func loadOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	return &doc
}

// docPath turns a mux pattern into the document's path.
func docPath(pattern string) string {
	if pattern == "/{$}" {
		return "/"
	}
	return pattern
}

// TestOpenAPIRoutes: every route and method the server has is in the
// document, and the document has nothing the server lacks.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	s, _ := newTestServer(t, Config{Analysis: newFake().analysis()})
	served := map[string]bool{}
	for _, r := range s.routeTable() {
		p := docPath(r.pattern)
		for m := range r.methods {
			key := strings.ToLower(m) + " " + p
			served[key] = true
			if _, ok := doc.Paths[p][strings.ToLower(m)]; !ok {
				t.Errorf("%s is served but not documented", key)
			}
		}
		// Public routes say so (security: []); the others do not.
		for m := range r.methods {
			var op struct {
				Security *[]any `json:"security"`
			}
			json.Unmarshal(doc.Paths[p][strings.ToLower(m)], &op)
			if public := op.Security != nil && len(*op.Security) == 0; public != r.public {
				t.Errorf("%s %s: documented public=%v, served public=%v", m, p, public, r.public)
			}
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			if !served[m+" "+p] {
				t.Errorf("%s %s is documented but not served", m, p)
			}
		}
	}
}

// TestOpenAPIAnswers drives every route and checks each answer's status is
// documented for it (or is one of the statuses any route may give) and its
// JSON body matches the documented schema.
func TestOpenAPIAnswers(t *testing.T) {
	doc := loadOpenAPI(t)
	fake := newFake()
	close(fake.release)
	_, ts := newTestServer(t, Config{Analysis: fake.analysis(), Rate: 1, Burst: 6})
	code, m := upload(t, ts.URL, "a.png", smallPNG(100))
	if code != 202 {
		t.Fatal(code, m)
	}
	id := m["id"].(string)
	waitState(t, ts.URL, id, StateDone)
	png, pct := multipartBody(t, "file", "a.png", smallPNG(100))
	bomb, bct := multipartBody(t, "file", "b.png", pngHeader(9000, 9000))
	type call struct {
		method, path, docPath, ct string
		body                      io.Reader
	}
	job := "/v1/jobs/{id}"
	calls := []call{
		{"GET", "/", "/", "", nil},
		{"GET", "/app.js", "/app.js", "", nil},
		{"GET", "/app.css", "/app.css", "", nil},
		{"GET", "/healthz", "/healthz", "", nil},
		{"GET", "/readyz", "/readyz", "", nil},
		{"GET", "/openapi.json", "/openapi.json", "", nil},
		{"GET", "/metrics", "/metrics", "", nil},
		{"GET", "/v1/version", "/v1/version", "", nil},
		{"GET", "/v1/jobs", "/v1/jobs", "", nil},
		{"GET", "/v1/jobs/" + id, job, "", nil},
		{"GET", "/v1/jobs/0123456789abcdef0123456789abcdef", job, "", nil},
		{"GET", "/v1/jobs/" + id + "/events.json", job + "/{file}", "", nil},
		{"GET", "/v1/jobs/" + id + "/report.html", job + "/{file}", "", nil},
		{"GET", "/v1/jobs/" + id + "/frames.csv", job + "/{file}", "", nil},
		{"GET", "/v1/jobs/" + id + "/nothing", job + "/{file}", "", nil},
		{"POST", "/v1/cot", "/v1/cot", "application/json", strings.NewReader(`{"aus":"6+12"}`)},
		{"POST", "/v1/cot", "/v1/cot", "application/json", strings.NewReader(`{"aus":"99Z"}`)},
		{"POST", "/v1/cot", "/v1/cot", "text/plain", strings.NewReader(`{"aus":"6+12"}`)},
		{"POST", "/v1/analyze", "/v1/analyze", pct, png},  // over the rate: 429
		{"POST", "/v1/analyze", "/v1/analyze", bct, bomb}, // 429 too
		{"DELETE", "/v1/jobs/" + id, job, "", nil},        // 429
		{"PUT", "/v1/cot", "/v1/cot", "", nil},            // 405, any route
		{"GET", "/v1/nothing", "", "", nil},               // 404 outside the document
	}
	for _, c := range calls {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, c.body)
		if c.ct != "" {
			req.Header.Set("Content-Type", c.ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		what := fmt.Sprintf("%s %s → %d", c.method, c.path, resp.StatusCode)
		if c.docPath == "" || resp.StatusCode == 405 {
			checkSchema(t, doc, what, map[string]any{"$ref": "#/components/schemas/Error"}, raw)
			continue
		}
		op, ok := doc.Paths[c.docPath][strings.ToLower(c.method)]
		if !ok {
			t.Errorf("%s: not documented", what)
			continue
		}
		var o struct {
			Responses map[string]map[string]any `json:"responses"`
		}
		json.Unmarshal(op, &o)
		r, ok := o.Responses[strconv.Itoa(resp.StatusCode)]
		if !ok {
			t.Errorf("%s: status not documented (documented: %v)", what, keys(o.Responses))
			continue
		}
		if ref, ok := r["$ref"].(string); ok {
			r = doc.Components.Responses[strings.TrimPrefix(ref, "#/components/responses/")]
		}
		if hs, ok := r["headers"].(map[string]any); ok {
			for h := range hs {
				if resp.Header.Get(h) == "" {
					t.Errorf("%s: header %s documented but missing", what, h)
				}
			}
		}
		content, _ := r["content"].(map[string]any)
		if len(content) == 0 {
			if len(raw) != 0 {
				t.Errorf("%s: body where none is documented", what)
			}
			continue
		}
		ct := strings.TrimSpace(strings.Split(resp.Header.Get("Content-Type"), ";")[0])
		media, ok := content[ct].(map[string]any)
		if !ok {
			t.Errorf("%s: content type %q not documented (%v)", what, ct, keys(content))
			continue
		}
		if ct == "application/json" {
			checkSchema(t, doc, what, media["schema"].(map[string]any), raw)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func checkSchema(t *testing.T, doc *openAPIDoc, what string, schema map[string]any, raw []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Errorf("%s: body is not JSON: %v", what, err)
		return
	}
	for _, e := range validate(doc, schema, v, "$") {
		t.Errorf("%s: %s", what, e)
	}
}

// validate checks v against the JSON-schema subset the document uses:
// $ref, type, properties, required, additionalProperties, items, enum,
// pattern, minimum, maximum, maxLength, oneOf.
func validate(doc *openAPIDoc, s map[string]any, v any, at string) []string {
	if ref, ok := s["$ref"].(string); ok {
		return validate(doc, doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")], v, at)
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	if alts, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, a := range alts {
			if len(validate(doc, a.(map[string]any), v, at)) == 0 {
				n++
			}
		}
		if n != 1 {
			bad("matches %d of oneOf's schemas", n)
		}
	}
	switch s["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("want an object, got %T", v)
			return errs
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := obj[r]; !ok {
				bad("missing %q", r)
			}
		}
		for k, val := range obj {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, validate(doc, ps, val, at+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					bad("undocumented field %q", k)
				}
			case map[string]any:
				errs = append(errs, validate(doc, ap, val, at+"."+k)...)
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			bad("want an array, got %T", v)
			return errs
		}
		if it, ok := s["items"].(map[string]any); ok {
			for i, e := range arr {
				errs = append(errs, validate(doc, it, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("want a string, got %T", v)
			return errs
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			bad("%q does not match %s", str, p)
		}
		if n, ok := s["maxLength"].(float64); ok && float64(len(str)) > n {
			bad("longer than %v", n)
		}
	case "integer", "number":
		num, ok := v.(float64)
		if !ok || s["type"] == "integer" && num != float64(int64(num)) {
			bad("want a %v, got %v", s["type"], v)
			return errs
		}
		if m, ok := s["minimum"].(float64); ok && num < m {
			bad("%v below %v", num, m)
		}
		if m, ok := s["maximum"].(float64); ok && num > m {
			bad("%v above %v", num, m)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want a boolean, got %T", v)
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if e == v {
				found = true
			}
		}
		if !found {
			bad("%v not in %v", v, enum)
		}
	}
	return errs
}

func asStrings(v any) []string {
	var out []string
	if a, ok := v.([]any); ok {
		for _, e := range a {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// TestValidateCatches: the validator itself fails on wrong answers.
func TestValidateCatches(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, body := range []string{
		`{"id":"0123456789abcdef0123456789abcdef"}`,
		`{"id":"XYZ","status_url":"/v1/jobs/XYZ"}`,
		`{"id":"0123456789abcdef0123456789abcdef","status_url":"/x","extra":1}`,
		`[]`,
	} {
		var v any
		json.Unmarshal([]byte(body), &v)
		if errs := validate(doc, map[string]any{"$ref": "#/components/schemas/Accepted"}, v, "$"); len(errs) == 0 {
			t.Errorf("%s passed as Accepted", body)
		}
	}
	var v any
	json.Unmarshal([]byte(`{"jobs":[{"id":"0123456789abcdef0123456789abcdef","status":"lost","input":"a","progress":{"frames":1,"total":2},"attempts":1,"created":"x","links":{}}]}`), &v)
	if errs := validate(doc, map[string]any{"$ref": "#/components/schemas/JobList"}, v, "$"); len(errs) != 1 || !strings.Contains(errs[0], "lost") {
		t.Errorf("a job list with an unknown status: %v", errs)
	}
}
