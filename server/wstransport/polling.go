package wstransport

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/zishang520/socket.io/servers/engine/v3"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/rest"
)

// PollingBodies guards the messages clients send on long-polling (POST ...?transport=polling)
// as the transport guards websocket frames, before the engine reads a byte:
//   - a body over its session's limit (the small one until Raise) is refused with 413 and logged
//     at warn with the client's address (the library answered 413 without a word);
//   - a body over the small limit is read only within the budget shared with websocket frames,
//     so that large messages in flight stay bounded however many connections send them; one
//     that finds no room in time gets 503 with Retry-After;
//   - a body that does not declare its length (chunked) is read up to the small limit and
//     refused with 411 past it (every Engine.IO client declares it), where the library would
//     have cut it at the limit and decoded the rest as packets.
//
// Refusals carry a JSON body {code, error} as the REST API's. The client's transport fails,
// and socket.io-client reconnects as after any failed poll.
func PollingBodies(l *Limits, log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("transport") != "polling" {
			h.ServeHTTP(w, r)
			return
		}
		limit := l.pollingLimit(q.Get("sid"))
		n := r.ContentLength
		if n < 0 {
			body, err := io.ReadAll(io.LimitReader(r.Body, l.small+1))
			if err != nil {
				refuseBody(w, r, log, http.StatusBadRequest, protocol.ErrorCodeInvalid, "the request body could not be read", n, limit)
				return
			}
			if int64(len(body)) > l.small {
				refuseBody(w, r, log, http.StatusLengthRequired, protocol.ErrorCodeInvalid,
					fmt.Sprintf("a polling body over %d bytes must declare its Content-Length", l.small), n, limit)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			n = r.ContentLength
		}
		switch {
		case n > limit:
			refuseBody(w, r, log, http.StatusRequestEntityTooLarge, protocol.ErrorCodeTooLarge,
				fmt.Sprintf("message too large: %d bytes, the limit is %d", n, limit), n, limit)
			return
		case n > l.small:
			if err := l.acquire(n); err != nil {
				w.Header().Set("Retry-After", "1")
				refuseBody(w, r, log, http.StatusServiceUnavailable, protocol.ErrorCodeUnavailable,
					"the budget for large messages is spent; send it again later", n, limit)
				return
			}
			defer l.release(n)
		}
		h.ServeHTTP(w, r)
	})
}

// refuseBody answers a refused polling body and logs it with the client's address.
func refuseBody(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, code protocol.ErrorCode, msg string, size, limit int64) {
	log.Warn("polling message refused: "+msg, "address", r.RemoteAddr, "size", size, "limit", limit)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Connection", "close") // the body was not read
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
