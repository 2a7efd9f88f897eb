package sio

import (
	"crypto/tls"
	"net/http"
	"net/url"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// keptHeaders are the request headers a connection's handshake keeps after its first namespace
// CONNECT: the Cookie, which another namespace's CONNECT on the same connection may still
// authenticate with, and the Origin, from which the library sets a handshake's Xdomain.
var keptHeaders = [...]string{"Cookie", "Origin"}

// secure stands for the TLS state of a trimmed request: the library only asks whether there is
// one (a handshake's Secure).
var secure = &tls.ConnectionState{}

// trimRequest drops what the library keeps of a connection's first request for the
// connection's life and the relay never reads: the engine keeps that request's context
// (types.HttpContext) with the *http.Request, its URL, headers and parsed query, and net/http's
// request contexts, about 2 KiB per connection. The context is released to a compactRequest
// (at once if the request is finished, else when it finishes: a websocket's handler may return
// after its first CONNECT was read), which keeps what the library and the relay read at a
// namespace CONNECT: the headers the relay uses, the query for the namespaces' fallbacks, the
// address, URL and whether it was secure. It runs in the middleware of every CONNECT, after the
// library built the namespace's handshake from the request, on the connection's reader, where
// the namespaces' handshakes are built and read one after the other; at a later CONNECT it
// releases again what building that handshake derived from the compact request (its headers
// and parsed query).
func trimRequest(s *socket.Socket) {
	ctx := s.Request()
	if ctx == nil {
		return
	}
	r := ctx.Request()
	if r == nil {
		return
	}
	if r.Body != nil { // a server request's Body is never nil; a compact one's is
		r = compactRequest(r)
	}
	ctx.Release(r)
}

// compactRequest is a copy of r with only what the handshakes read: method, URL path and query
// (sharing r's strings), request URI, host, remote address, the keptHeaders and whether r came
// over TLS. It has no body, unlike every request of a server, and its context is the
// background (the released context's own replaces it).
func compactRequest(r *http.Request) *http.Request {
	c := &http.Request{
		Method:     r.Method,
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		RequestURI: r.RequestURI,
		Proto:      r.Proto,
		ProtoMajor: r.ProtoMajor,
		ProtoMinor: r.ProtoMinor,
	}
	if r.URL != nil {
		c.URL = &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	} else {
		c.URL = &url.URL{}
	}
	for _, k := range keptHeaders {
		if v, ok := r.Header[k]; ok {
			if c.Header == nil { // none to keep: no map (a nil Header reads as empty)
				c.Header = make(http.Header, len(keptHeaders))
			}
			c.Header[k] = v
		}
	}
	if r.TLS != nil {
		c.TLS = secure
	}
	return c
}

// trimHandshake drops the library's copies of the request's headers and query in the handshake
// of a socket the relay has connected, and its auth, which the relay read when it connected the
// socket (a socket recovered by Connection State Recovery gets a new handshake). Only the socket's
// own goroutines read its handshake: this runs on the one that connected it.
func trimHandshake(s *socket.Socket) {
	hs := s.Handshake()
	hs.Headers, hs.Query, hs.Auth = nil, nil, nil
}
