package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

// mountAPI mounts the REST API under /api/.
func (s *Server) mountAPI(mux *http.ServeMux) {
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"Not found"}`))
	})
}

// sweepHooks runs the API's cleanup (expired attachments).
func (s *Server) sweepHooks(ctx context.Context, now time.Time) {}

func contextTimeout(r *http.Request, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), d)
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
