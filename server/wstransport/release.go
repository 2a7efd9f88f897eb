package wstransport

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// ReleaseResponses wraps the engine server's HTTP handler so that the Engine.IO session keeps
// nothing of net/http's connection once a request is done. The engine keeps the context of the
// request that opened a session for the session's life, and with it the http.ResponseWriter,
// which holds net/http's connection and its read and write buffers (8 KiB, never used again once
// a websocket is hijacked), and its header map. The handler gets a ResponseWriter that forgets
// the real one when it is hijacked and when the handler returns; later calls do nothing (and
// Header returns a map that is never sent).
func ReleaseResponses(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &releasingWriter{w: w}
		defer rw.release()
		h.ServeHTTP(rw, r)
	})
}

// releasingWriter is an http.ResponseWriter that drops the one it wraps when released.
type releasingWriter struct {
	mu sync.Mutex
	w  http.ResponseWriter
}

func (rw *releasingWriter) get() http.ResponseWriter {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.w
}

func (rw *releasingWriter) release() {
	rw.mu.Lock()
	rw.w = nil
	rw.mu.Unlock()
}

// Header implements http.ResponseWriter.
func (rw *releasingWriter) Header() http.Header {
	if w := rw.get(); w != nil {
		return w.Header()
	}
	return http.Header{}
}

// Write implements http.ResponseWriter.
func (rw *releasingWriter) Write(b []byte) (int, error) {
	if w := rw.get(); w != nil {
		return w.Write(b)
	}
	return 0, http.ErrHijacked
}

// WriteHeader implements http.ResponseWriter.
func (rw *releasingWriter) WriteHeader(code int) {
	if w := rw.get(); w != nil {
		w.WriteHeader(code)
	}
}

// Flush implements http.Flusher.
func (rw *releasingWriter) Flush() {
	if w := rw.get(); w != nil {
		_ = http.NewResponseController(w).Flush()
	}
}

// Hijack implements http.Hijacker; the real ResponseWriter is forgotten.
func (rw *releasingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w := rw.get()
	if w == nil {
		return nil, nil, http.ErrHijacked
	}
	rw.release()
	return http.NewResponseController(w).Hijack()
}
