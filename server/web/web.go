// Package web serves the browser app: the Vite build of ts/web, committed in dist/ and embedded in
// the binary, so that `pizzapi serve` has a UI on a machine with nothing but Go.
//
// Every path that is not a file of the build gets index.html, so the app's own URLs (the share URL
// /session/{id} among them) survive a reload; only a missing file under /assets/ is a 404. Hashed
// assets under /assets/ are cached for a year, everything else is revalidated (ETag) on every use,
// and text files are served gzip-compressed to clients that accept it.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed dist
var dist embed.FS

const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
	// The app loads its own scripts and styles, talks to its own origin (REST and Socket.IO), and
	// shows images from attachments (data: URLs). xterm.js and Preact set inline styles.
	contentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; " +
		"connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

// contentTypes names the types of the files a Vite build produces, independent of the system's
// MIME tables; other extensions fall back to the mime package.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".svg":         "image/svg+xml",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".woff2":       "font/woff2",
	".txt":         "text/plain; charset=utf-8",
}

// asset is one file of the build, ready to serve.
type asset struct {
	body, gzipped        []byte // gzipped is nil when compression does not pay
	etag, gzipETag       string
	contentType, caching string
}

type handler struct {
	files map[string]*asset // by path relative to dist, e.g. "assets/index-abc.js"
	index *asset
}

// Handler returns the app's handler. Mount it at "/" beside the API, Socket.IO, health and metrics
// routes: it answers every other GET and HEAD.
func Handler() http.Handler { return embedded() }

var embedded = sync.OnceValue(func() http.Handler {
	h, err := newHandler(dist)
	if err != nil {
		panic("web: the embedded build is broken: " + err.Error())
	}
	return h
})

func newHandler(root fs.FS) (*handler, error) {
	sub, err := fs.Sub(root, "dist")
	if err != nil {
		return nil, err
	}
	h := &handler{files: map[string]*asset{}}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		h.files[name] = newAsset(name, body)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if h.index = h.files["index.html"]; h.index == nil {
		return nil, fs.ErrNotExist
	}
	return h, nil
}

func newAsset(name string, body []byte) *asset {
	ext := path.Ext(name)
	a := &asset{body: body, etag: etag(body), contentType: contentTypes[ext], caching: cacheRevalidate}
	if a.contentType == "" {
		if a.contentType = mime.TypeByExtension(ext); a.contentType == "" {
			a.contentType = "application/octet-stream"
		}
	}
	if strings.HasPrefix(name, "assets/") {
		a.caching = cacheImmutable
	}
	if compressible(a.contentType) {
		if z := compress(body); len(z) < len(body)*9/10 {
			a.gzipped, a.gzipETag = z, etag(z)
		}
	}
	return a
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || contentType == "image/svg+xml" || contentType == "application/json" || contentType == "application/manifest+json"
}

func compress(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	a := h.files[name]
	if a == nil {
		if strings.HasPrefix(name, "assets/") {
			http.NotFound(w, r)
			return
		}
		a = h.index
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("Cache-Control", a.caching)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if a == h.index {
		hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	body, tag := a.body, a.etag
	if a.gzipped != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			hdr.Set("Content-Encoding", "gzip")
			body, tag = a.gzipped, a.gzipETag
		}
	}
	hdr.Set("ETag", tag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (and does not refuse it with q=0).
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
