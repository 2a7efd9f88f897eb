package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// testBuild is a small build with the shape Vite produces.
var testBuild = fstest.MapFS{
	"dist/index.html":              {Data: []byte(`<!doctype html><div id="app"></div><script type="module" src="/assets/index-abc123.js"></script>` + strings.Repeat(" ", 600))},
	"dist/favicon.svg":             {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
	"dist/assets/index-abc123.js":  {Data: []byte(strings.Repeat("console.log('pizzapi');\n", 200))},
	"dist/assets/index-abc123.css": {Data: []byte(strings.Repeat("body{margin:0}\n", 100))},
}

func serve(t *testing.T, h http.Handler, method, target string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testHandler(t *testing.T) *handler {
	t.Helper()
	h, err := newHandler(testBuild)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRoutesAndHeaders(t *testing.T) {
	h := testHandler(t)
	index := string(testBuild["dist/index.html"].Data)
	for _, tc := range []struct {
		path, status, contentType, cache, body string
	}{
		{"/", "200", "text/html; charset=utf-8", cacheRevalidate, index},
		{"/index.html", "200", "text/html; charset=utf-8", cacheRevalidate, index},
		{"/session/0b7c1d2e-1111-4a4a-9999-123456789abc", "200", "text/html; charset=utf-8", cacheRevalidate, index},
		{"/terminal/t-1", "200", "text/html; charset=utf-8", cacheRevalidate, index},
		{"/runners", "200", "text/html; charset=utf-8", cacheRevalidate, index},
		{"/../../etc/passwd", "200", "text/html; charset=utf-8", cacheRevalidate, index},
		{"/favicon.svg", "200", "image/svg+xml", cacheRevalidate, string(testBuild["dist/favicon.svg"].Data)},
		{"/assets/index-abc123.js", "200", "text/javascript; charset=utf-8", cacheImmutable, string(testBuild["dist/assets/index-abc123.js"].Data)},
		{"/assets/index-abc123.css", "200", "text/css; charset=utf-8", cacheImmutable, string(testBuild["dist/assets/index-abc123.css"].Data)},
	} {
		res := serve(t, h, http.MethodGet, tc.path, nil)
		if got := res.Status[:3]; got != tc.status {
			t.Errorf("GET %s: status %s, want %s", tc.path, res.Status, tc.status)
		}
		if got := res.Header.Get("Content-Type"); got != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if got := res.Header.Get("Cache-Control"); got != tc.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, got, tc.cache)
		}
		if got := body(t, res); got != tc.body {
			t.Errorf("GET %s: body %.60q..., want %.60q...", tc.path, got, tc.body)
		}
		if res.Header.Get("ETag") == "" {
			t.Errorf("GET %s: no ETag", tc.path)
		}
	}
}

func TestSecurityPolicyOnThePage(t *testing.T) {
	h := testHandler(t)
	if got := serve(t, h, http.MethodGet, "/session/x", nil).Header.Get("Content-Security-Policy"); got != contentSecurityPolicy {
		t.Errorf("index.html: Content-Security-Policy %q", got)
	}
	if got := serve(t, h, http.MethodGet, "/assets/index-abc123.js", nil).Header.Get("Content-Security-Policy"); got != "" {
		t.Errorf("a script has a Content-Security-Policy: %q", got)
	}
}

func TestMissingAssetIsNotTheApp(t *testing.T) {
	res := serve(t, testHandler(t), http.MethodGet, "/assets/index-old999.js", nil)
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("status %s, want 404", res.Status)
	}
	if strings.Contains(body(t, res), `id="app"`) {
		t.Error("a missing asset was answered with index.html")
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	h := testHandler(t)
	res := serve(t, h, http.MethodPost, "/session/x", nil)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %s, Allow %q", res.Status, res.Header.Get("Allow"))
	}
	res = serve(t, h, http.MethodHead, "/", nil)
	if res.StatusCode != http.StatusOK || body(t, res) != "" || res.Header.Get("Content-Length") == "" {
		t.Errorf("HEAD: status %s, Content-Length %q", res.Status, res.Header.Get("Content-Length"))
	}
}

func TestGzip(t *testing.T) {
	h := testHandler(t)
	js := testBuild["dist/assets/index-abc123.js"].Data
	plain := serve(t, h, http.MethodGet, "/assets/index-abc123.js", nil)
	zipped := serve(t, h, http.MethodGet, "/assets/index-abc123.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if zipped.Header.Get("Content-Encoding") != "gzip" || zipped.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("Accept-Encoding gzip: Content-Encoding %q, Vary %q", zipped.Header.Get("Content-Encoding"), zipped.Header.Get("Vary"))
	}
	if plain.Header.Get("Content-Encoding") != "" || plain.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("no Accept-Encoding: Content-Encoding %q, Vary %q", plain.Header.Get("Content-Encoding"), plain.Header.Get("Vary"))
	}
	if plain.Header.Get("ETag") == zipped.Header.Get("ETag") {
		t.Error("the gzip and identity representations share an ETag")
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); !bytes.Equal(got, js) {
		t.Error("the gzipped body does not decompress to the file")
	}
	refused := serve(t, h, http.MethodGet, "/assets/index-abc123.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
	if refused.Header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}
}

func TestConditionalGet(t *testing.T) {
	h := testHandler(t)
	tag := serve(t, h, http.MethodGet, "/", nil).Header.Get("ETag")
	res := serve(t, h, http.MethodGet, "/session/abc", map[string]string{"If-None-Match": tag})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the current ETag: status %s, want 304", res.Status)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                       false,
		"gzip":                   true,
		"GZIP":                   true,
		"deflate, gzip;q=1.0, *": true,
		"gzip; q=0.5":            true,
		"gzip;q=0":               false,
		"gzip;q=0.000":           false,
		"br":                     false,
		"x-gzip":                 false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestEmbeddedBuild checks the committed build: the page loads, and every file index.html refers
// to is embedded and served with its type.
func TestEmbeddedBuild(t *testing.T) {
	h := Handler()
	page := body(t, serve(t, h, http.MethodGet, "/session/any", nil))
	if !strings.Contains(page, `<div id="app">`) {
		t.Fatalf("the embedded index.html has no app root:\n%s", page)
	}
	refs := regexp.MustCompile(`(?:src|href)="(/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("index.html refers to %d files, want the script and the stylesheet at least", len(refs))
	}
	for _, m := range refs {
		res := serve(t, h, http.MethodGet, m[1], nil)
		if res.StatusCode != http.StatusOK || strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: status %s, Content-Type %q", m[1], res.Status, res.Header.Get("Content-Type"))
		}
	}
}
