package push

import (
	"context"
	"crypto/ecdh"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/server/store"
)

// Subscription is what a browser sends to subscribe.
type Subscription struct {
	Endpoint string
	P256DH   string
	Auth     string
	// EnabledEvents is "*" or a comma-separated list of kinds; empty means "*".
	EnabledEvents string
}

// Subscribe stores a browser's subscription for a user, replacing the user's subscription with
// the same endpoint, and returns it with its new id. The endpoint must pass the Policy and the
// keys must be a P-256 public key and a 16-byte secret (*InputError otherwise).
func (s *Service) Subscribe(ctx context.Context, userID string, sub Subscription) (store.PushSubscription, error) {
	if err := s.opts.Policy.Check(sub.Endpoint); err != nil {
		return store.PushSubscription{}, err
	}
	p256dh, err := decodeBase64(sub.P256DH)
	if err == nil {
		_, err = ecdh.P256().NewPublicKey(p256dh)
	}
	if err != nil {
		return store.PushSubscription{}, &InputError{Message: "keys.p256dh is not the base64 of an uncompressed P-256 public key"}
	}
	auth, err := decodeBase64(sub.Auth)
	if err != nil || len(auth) != 16 {
		return store.PushSubscription{}, &InputError{Message: "keys.auth is not the base64 of a 16-byte secret"}
	}
	events := AllEvents
	if sub.EnabledEvents != "" {
		if events, err = NormalizeEvents(sub.EnabledEvents); err != nil {
			return store.PushSubscription{}, err
		}
	}
	rec := store.PushSubscription{
		ID:            uuid.NewString(),
		UserID:        userID,
		Endpoint:      sub.Endpoint,
		P256DH:        b64(p256dh),
		Auth:          b64(auth),
		EnabledEvents: events,
		CreatedAt:     s.opts.Now(),
	}
	if err := s.opts.Store.SavePushSubscription(ctx, rec, s.opts.MaxSubscriptions); err != nil {
		return store.PushSubscription{}, err
	}
	return rec, nil
}

// Unsubscribe forgets the user's subscription with this endpoint and reports whether there was
// one.
func (s *Service) Unsubscribe(ctx context.Context, userID, endpoint string) (bool, error) {
	return s.opts.Store.DeletePushSubscription(ctx, userID, endpoint)
}

// Subscriptions lists the user's subscriptions, oldest first.
func (s *Service) Subscriptions(ctx context.Context, userID string) ([]store.PushSubscription, error) {
	return s.opts.Store.PushSubscriptions(ctx, userID)
}

// SetEvents changes the kinds the user's subscription with this endpoint receives and reports
// whether there was one.
func (s *Service) SetEvents(ctx context.Context, userID, endpoint, events string) (bool, error) {
	normalized, err := NormalizeEvents(events)
	if err != nil {
		return false, err
	}
	return s.opts.Store.SetPushEvents(ctx, userID, endpoint, normalized)
}
