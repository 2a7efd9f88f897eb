package server

import (
	"context"
	"fmt"
	"time"

	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/push"
)

// newPush starts the Web Push service, unless it is disabled: the configured VAPID keys or the
// pair kept in the durable store (made on first start), a subject that push services accept,
// and claims in Redis on a cluster so that each notification goes out from one node.
func (s *Server) newPush(ctx context.Context) (*push.Service, error) {
	if s.cfg.DisablePush {
		return nil, nil
	}
	subject, fallback, err := push.Subject(s.cfg.VAPIDSubject, s.cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if fallback {
		s.log.Warn("Web Push: the VAPID subject is "+push.FallbackSubject+", which reaches nobody; set --vapid-subject "+
			"(PIZZAPI_VAPID_SUBJECT) to a mailto: address or serve the relay on an https --base-url", "subject", subject)
	}
	var keys push.Keys
	if s.cfg.VAPIDPublicKey != "" {
		if keys, err = push.ParseKeys(s.cfg.VAPIDPublicKey, s.cfg.VAPIDPrivateKey); err != nil {
			return nil, fmt.Errorf("configuration: %w", err)
		}
	} else if keys, err = push.LoadKeys(ctx, s.db, time.Now()); err != nil {
		return nil, err
	}
	policy, err := push.NewPolicy(s.cfg.PushAllowEndpoints)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	var claims push.Claims = push.NewMemoryClaims()
	if s.cluster != nil {
		claims = push.NewRedisClaims(s.cluster.rdb, keyPrefix)
	}
	return push.New(push.Options{
		Store:    s.db,
		Keys:     keys,
		Subject:  subject,
		Policy:   policy,
		Claims:   claims,
		Observer: s.metrics,
		Logger:   s.log,
	})
}

// notifier is what the core tells about sessions nobody watches: the push service, or nothing.
func (s *Server) notifier() core.Notifier {
	if s.push == nil {
		return nil
	}
	return s.push
}
