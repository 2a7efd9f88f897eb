package api

import (
	"io"
	"net/http"
	"time"
)

// Deadlines of a request. The HTTP server only bounds the time to read request headers (the
// Socket.IO endpoints on the same port keep their connections open), so each API request sets
// its own: a body must arrive within BodyTimeout, or at minUploadRate after BodyTimeout for an
// upload, and the answer must be written within writeTimeout (downloads get time for their size
// at minUploadRate). A client that trickles a body or reads the answer a byte at a time loses its
// connection instead of holding it.
const (
	writeTimeout  = 60 * time.Second
	minUploadRate = 64 << 10 // bytes per second
)

// deadlines sets the read and write deadlines of a request and returns the function that clears
// the write deadline when the request is done (the server does not reset it for the next request
// on the connection, which could be a long-lived upgrade).
func (a *api) deadlines(w http.ResponseWriter, _ *http.Request) func() {
	rc := http.NewResponseController(w)
	now := time.Now()
	_ = rc.SetReadDeadline(now.Add(a.BodyTimeout))
	_ = rc.SetWriteDeadline(now.Add(writeTimeout))
	return func() { _ = rc.SetWriteDeadline(time.Time{}) }
}

// rateLimitedBody is an upload body whose read deadline moves forward as bytes arrive, at the
// minimum rate: a grace period plus one second per minUploadRate bytes received.
type rateLimitedBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	n     int64
}

// minRate gives the request's body the upload deadline and its answer time to be written after
// an upload of up to limit bytes.
func (a *api) minRate(w http.ResponseWriter, r *http.Request, limit int64) {
	rc := http.NewResponseController(w)
	now := time.Now()
	_ = rc.SetReadDeadline(now.Add(a.BodyTimeout))
	_ = rc.SetWriteDeadline(now.Add(a.BodyTimeout + transferTime(limit) + writeTimeout))
	r.Body = &rateLimitedBody{ReadCloser: r.Body, rc: rc, start: now, grace: a.BodyTimeout}
}

// Read implements io.Reader.
func (b *rateLimitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.n += int64(n)
		_ = b.rc.SetReadDeadline(b.start.Add(b.grace + transferTime(b.n)))
	}
	return n, err
}

// transferTime is how long n bytes take at minUploadRate.
func transferTime(n int64) time.Duration {
	return time.Duration(n) * time.Second / minUploadRate
}
