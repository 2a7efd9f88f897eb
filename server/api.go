package server

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"time"

	"github.com/pizzapi/pizzapi/server/api"
	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/ratelimit"
	"github.com/pizzapi/pizzapi/server/ratelimit/redisrate"
	"github.com/pizzapi/pizzapi/server/store"
)

// attachmentDir is where uploaded attachments are kept.
func (s *Server) attachmentDir() string { return filepath.Join(s.cfg.DataDir, "attachments") }

// mountAPI mounts the REST API under /api/.
func (s *Server) mountAPI(mux *http.ServeMux) {
	// The counts of the login and sign-up limits are shared by the nodes of a cluster.
	var counter ratelimit.Counter = ratelimit.NewMemory()
	if s.cluster != nil {
		counter = redisrate.New(s.cluster.rdb, keyPrefix+"rate:")
	}
	quota := s.cfg.AttachmentQuotaBytes
	if quota == 0 {
		quota = -1 // no limit
	}
	mux.Handle("/api/", api.New(api.Deps{
		Core:                      s.core,
		Accounts:                  s.accounts,
		Store:                     s.db,
		Push:                      s.push,
		Limiter:                   auth.NewLimiter(counter, auth.DefaultLoginLimits),
		SignupLimiter:             auth.NewSignupLimiter(counter, int64(s.cfg.SignupsPerHour), time.Hour),
		SecureCookies:             s.cfg.SecureCookies(),
		TrustedProxies:            s.cfg.TrustedProxies,
		Origins:                   s.cfg.Origins(),
		MaxPublicRequests:         s.cfg.MaxPublicRequests,
		MaxBodyBytes:              s.cfg.MaxBodyBytes,
		BodyTimeout:               s.cfg.HTTPBodyTimeout,
		AttachmentMaxBytes:        s.cfg.AttachmentMaxBytes,
		AttachmentRequestMaxBytes: s.cfg.AttachmentRequestMaxBytes,
		AttachmentQuotaBytes:      quota,
		AttachmentTTL:             s.cfg.AttachmentTTL,
		AttachmentDir:             s.attachmentDir(),
		DownloadKey:               s.downloadKey,
		Logger:                    s.log,
	}))
}

// sweepHooks deletes expired attachments with their files.
func (s *Server) sweepHooks(ctx context.Context, now time.Time) {
	if n, err := api.SweepAttachments(ctx, s.db, s.attachmentDir(), now); err != nil {
		s.log.Error("sweeping attachments", "error", err)
	} else if n > 0 {
		s.log.Debug("deleted expired attachments", "count", n)
	}
}

func contextTimeout(r *http.Request, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), d)
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
