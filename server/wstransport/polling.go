package wstransport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/rest"
)

// MinBodyRate is the slowest a large polling body may arrive, in bytes per second, after the
// body timeout (as the REST API's uploads).
const MinBodyRate = 64 << 10

// PollingOptions configures GuardPolling.
type PollingOptions struct {
	// Limits bounds the bodies as websocket messages: per session, and large ones by the shared
	// budget.
	Limits *Limits
	// Logger receives the refused bodies (warn).
	Logger *slog.Logger
	// BodyTimeout is how long a body may take to arrive; one over the small limit gets this plus
	// its size at MinBodyRate.
	BodyTimeout time.Duration
	// ResponseTimeout bounds a poll (GET) from its start to its answer written: the engine holds
	// a poll until it has packets to send, at most a ping interval.
	ResponseTimeout time.Duration
}

// GuardPolling guards Engine.IO's long-polling requests (…?transport=polling) as the transport
// guards websocket frames, before the engine sees them. A body (POST):
//   - over its session's limit (the small one until Raise) is refused with 413 and logged at warn
//     with the client's address, before any of it is read (the library answered 413 without a
//     word);
//   - over the small limit is read only within the budget shared with websocket frames, so that
//     large messages in flight stay bounded however many connections send them; one that finds
//     no room in time gets 503 with Retry-After;
//   - of undeclared length (chunked) is refused with 411 past the small limit (every Engine.IO
//     client declares it; the library cut such a body at its limit and decoded the rest);
//   - must arrive within the body timeout (a large one at MinBodyRate after it), or gets 408: it
//     is read whole before the engine sees it, so a body cut off is never decoded in part.
//
// A poll (GET) must be answered within ResponseTimeout, so that a client that stops reading
// does not hold the handler writing to it.
//
// Refusals carry a JSON body {code, error} as the REST API's. The client's transport fails,
// and socket.io-client reconnects as after any failed poll.
func GuardPolling(o PollingOptions, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("transport") != "polling" {
			h.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			if r.Method == http.MethodGet && o.ResponseTimeout > 0 {
				_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(o.ResponseTimeout))
			}
			h.ServeHTTP(w, r)
			return
		}
		l := o.Limits
		limit := l.pollingLimit(q.Get("sid"))
		n := r.ContentLength
		if n > limit {
			refuseBody(w, r, o.Logger, http.StatusRequestEntityTooLarge, protocol.ErrorCodeTooLarge,
				fmt.Sprintf("message too large: %d bytes, the limit is %d", n, limit), n, limit)
			return
		}
		if n > l.small {
			if err := l.acquire(n); err != nil {
				w.Header().Set("Retry-After", "1")
				refuseBody(w, r, o.Logger, http.StatusServiceUnavailable, protocol.ErrorCodeUnavailable,
					"the budget for large messages is spent; send it again later", n, limit)
				return
			}
			defer l.release(n)
		}
		body, status, err := readBody(w, r, n, l.small, o.BodyTimeout)
		if err != nil {
			code := protocol.ErrorCodeInvalid
			if status == http.StatusRequestTimeout {
				code = protocol.ErrorCodeTimeout
			}
			refuseBody(w, r, o.Logger, status, code, err.Error(), n, limit)
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		h.ServeHTTP(w, r)
	})
}

// readBody reads a polling body of n bytes (-1: undeclared, then at most small) within the body
// timeout and the time its size takes at MinBodyRate. It returns the status to refuse it with.
func readBody(w http.ResponseWriter, r *http.Request, n, small int64, timeout time.Duration) ([]byte, int, error) {
	if timeout > 0 {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout + time.Duration(max(n, 0))*time.Second/MinBodyRate))
	}
	var body []byte
	var err error
	if n < 0 {
		body, err = io.ReadAll(io.LimitReader(r.Body, small+1))
		if err == nil && int64(len(body)) > small {
			return nil, http.StatusLengthRequired, fmt.Errorf("a polling body over %d bytes must declare its Content-Length", small)
		}
	} else {
		body = make([]byte, n)
		_, err = io.ReadFull(r.Body, body)
	}
	switch {
	case err == nil:
		return body, 0, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, http.StatusRequestTimeout, errors.New("The request body did not arrive in time")
	default:
		return nil, http.StatusBadRequest, errors.New("the request body could not be read")
	}
}

// refuseBody answers a refused polling body and logs it with the client's address.
func refuseBody(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, code protocol.ErrorCode, msg string, size, limit int64) {
	log.Warn("polling message refused: "+msg, "address", r.RemoteAddr, "size", size, "limit", limit)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Connection", "close") // the body was not read, or not whole
	w.WriteHeader(status)
	body, _ := rest.ErrorResponse{Code: code, Error: msg}.MarshalJSON()
	_, _ = w.Write(body)
}

// pollingLimit returns the limit of an Engine.IO session's polling bodies: raised by Raise, or
// the small one (also for a session id the engine does not know, which it refuses itself).
func (l *Limits) pollingLimit(sid string) int64 {
	if v, ok := l.polling.Load(sid); ok {
		return v.(int64)
	}
	return l.small
}

// raisePolling records a polling session's raised limit until it upgrades or closes.
func (l *Limits) raisePolling(conn engine.Socket, limit int64) {
	sid := conn.Id()
	for {
		old, loaded := l.polling.LoadOrStore(sid, limit)
		if !loaded {
			forget := func(...any) { l.polling.Delete(sid) }
			_ = conn.Once("upgrade", forget)
			_ = conn.Once("close", forget)
			return
		}
		if old.(int64) >= limit || l.polling.CompareAndSwap(sid, old, limit) {
			return
		}
	}
}
