package server

import (
	"net/http"
	"time"
)

// routes is the node's HTTP surface on one port.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", s.io.ServeHandler(nil))
	mux.HandleFunc("GET /health", s.health)
	mux.Handle("GET /metrics", s.metrics.Handler())
	s.mountAPI(mux)
	return mux
}

// health reports whether the node can serve: the durable store answers.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if s.closing.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"shutting down"}`))
		return
	}
	ctx, cancel := contextTimeout(r, 2*time.Second)
	defer cancel()
	if _, err := s.db.RelaySession(ctx, "health-check"); err != nil && !isNotFound(err) {
		s.log.Error("health check: store", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"unavailable","store":"down"}`))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}
