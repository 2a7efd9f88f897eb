package web

import (
	"compress/gzip"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// firstPageBudget bounds the JavaScript a browser must load before the first page renders (the
// entry script and the modules it preloads), gzip-compressed as it is served.
const firstPageBudget = 60 << 10

var firstPageScript = regexp.MustCompile(`<(?:script type="module"[^>]* src|link rel="modulepreload"[^>]* href)="/([^"]+\.js)"`)

func gzipSize(t *testing.T, b []byte) int {
	t.Helper()
	var n countWriter
	zw, _ := gzip.NewWriterLevel(&n, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return int(n)
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// TestBundleBudget measures the committed build: every chunk's size, raw and gzipped, and the
// first page's JavaScript against the budget. Run with -v to see the sizes.
func TestBundleBudget(t *testing.T) {
	build, err := fs.Sub(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	page, err := fs.ReadFile(build, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	var first []string
	for _, m := range firstPageScript.FindAllStringSubmatch(string(page), -1) {
		first = append(first, m[1])
	}
	if len(first) == 0 {
		t.Fatal("index.html loads no module script")
	}
	chunks, err := fs.Glob(build, "assets/*")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, name := range chunks {
		b, err := fs.ReadFile(build, name)
		if err != nil {
			t.Fatal(err)
		}
		z := gzipSize(t, b)
		role := "lazy"
		if slices.Contains(first, name) {
			role = "first page"
			total += z
		} else if path.Ext(name) == ".css" && strings.Contains(string(page), "/"+name) {
			role = "first page (style)"
		}
		t.Logf("%-32s %8.1f KB raw %7.1f KB gzip  %s", name, kb(len(b)), kb(z), role)
	}
	t.Logf("first page JavaScript: %.1f KB gzip (budget %.0f KB)", kb(total), kb(firstPageBudget))
	if total >= firstPageBudget {
		t.Errorf("the first page loads %.1f KB of gzipped JavaScript, over the %.0f KB budget", kb(total), kb(firstPageBudget))
	}
}

func kb(n int) float64 { return float64(n) / 1024 }
