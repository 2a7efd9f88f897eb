package sio

import (
	"net/http"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// trimRequest drops what the library keeps of a connection's handshake request for the
// connection's life and the relay never reads: every request header but the Cookie (which
// another namespace's CONNECT on the same connection may still authenticate with) and the
// response headers of the handshake, long sent. The library copies the request's headers into
// the handshake of every socket it creates; once trimmed, those copies hold the cookie at most.
// It runs in the middleware, on the connection's reader, where the namespaces' handshakes are
// built and read one after the other.
func trimRequest(s *socket.Socket) {
	ctx := s.Request()
	if ctx == nil {
		return
	}
	r := ctx.Request()
	if r == nil {
		return
	}
	if cookie, ok := r.Header["Cookie"]; len(r.Header) > 1 || (len(r.Header) == 1 && !ok) {
		keep := http.Header{}
		if ok {
			keep["Cookie"] = cookie
		}
		r.Header = keep
		ctx.Headers().Replace(keep)
		ctx.ResponseHeaders().Replace(http.Header{})
	}
}

// trimHandshake drops the library's copies of the request's headers and query in the handshake
// of a socket the relay has connected, and its auth, which the relay read when it connected the
// socket (a socket recovered by Connection State Recovery gets a new handshake). Only the socket's
// own goroutines read its handshake: this runs on the one that connected it.
func trimHandshake(s *socket.Socket) {
	hs := s.Handshake()
	hs.Headers, hs.Query, hs.Auth = nil, nil, nil
}
