package server

import (
	"net/http"
	"time"

	"github.com/pizzapi/pizzapi/server/web"
	"github.com/pizzapi/pizzapi/server/wstransport"
)

// routes is the node's HTTP surface on one port: health and metrics always, the rest once the
// node is ready.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		app := s.app.Load()
		if app == nil {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"the relay is starting: waiting for Redis"}`))
			return
		}
		(*app).ServeHTTP(w, r)
	})
	return mux
}

// appRoutes serves clients: Socket.IO, the REST API and the browser app.
func (s *Server) appRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", wstransport.GuardPolling(wstransport.PollingOptions{
		Limits:          s.limits,
		Logger:          s.log,
		BodyTimeout:     s.cfg.HTTPBodyTimeout,
		ResponseTimeout: pingInterval + pollWriteTimeout,
	}, wstransport.ReleaseResponses(s.io.ServeHandler(nil))))
	mux.Handle("/ws/", s.legacy)
	s.mountAPI(mux)
	mux.Handle("/", web.Handler()) // the browser app, for every other path
	return mux
}

// health reports whether the node can serve: it is ready, the durable store answers and, in a
// cluster, so does Redis.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if s.closing.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"shutting down"}`))
		return
	}
	ctx, cancel := contextTimeout(r, 2*time.Second)
	defer cancel()
	if s.cluster != nil {
		if !s.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"starting","redis":"unreachable"}`))
			return
		}
		if err := s.cluster.ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable","redis":"down"}`))
			return
		}
	}
	if _, err := s.db.RelaySession(ctx, "health-check"); err != nil && !isNotFound(err) {
		s.log.Error("health check: store", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"unavailable","store":"down"}`))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}
