package store

import (
	"context"
	"time"
)

// PushSubscription is a browser's Web Push subscription (the PushSubscription of the Push API)
// for one user: where to send, the keys to encrypt for, and which kinds of notification it wants.
type PushSubscription struct {
	ID       string
	UserID   string
	Endpoint string // the push service URL, as the browser gave it
	P256DH   string // the browser's P-256 public key, URL-safe base64 of the uncompressed point
	Auth     string // the 16-byte authentication secret, URL-safe base64
	// EnabledEvents is "*" (every kind) or a comma-separated list of notification kinds.
	EnabledEvents string
	CreatedAt     time.Time
}

// VAPIDKeys is the key pair the relay signs its Web Push requests with (RFC 8292), both halves
// URL-safe base64 without padding: the 65-byte uncompressed P-256 public point and the 32-byte
// private scalar. Every node of a cluster must sign with the same pair, because browsers
// subscribed with its public key.
type VAPIDKeys struct {
	PublicKey  string
	PrivateKey string
	CreatedAt  time.Time
}

// PushStore keeps Web Push subscriptions and the relay's VAPID keys. Implementations are safe for
// concurrent use.
type PushStore interface {
	// SavePushSubscription stores a subscription. A subscription of the same user with the same
	// endpoint is replaced (it takes the new id, keys, events and creation time). The user then
	// keeps at most max subscriptions: the oldest beyond that are deleted. ErrNotFound when the
	// user does not exist.
	SavePushSubscription(ctx context.Context, sub PushSubscription, max int) error
	// PushSubscriptions lists the user's subscriptions, oldest first.
	PushSubscriptions(ctx context.Context, userID string) ([]PushSubscription, error)
	// DeletePushSubscription deletes the user's subscription with this endpoint and reports
	// whether there was one.
	DeletePushSubscription(ctx context.Context, userID, endpoint string) (bool, error)
	// DeletePushSubscriptionByID deletes a subscription (a push service said it is gone); no error
	// when it does not exist.
	DeletePushSubscriptionByID(ctx context.Context, id string) error
	// SetPushEvents changes the enabled events of the user's subscription with this endpoint and
	// reports whether there was one.
	SetPushEvents(ctx context.Context, userID, endpoint, events string) (bool, error)
	// EnsureVAPIDKeys stores k as the relay's key pair unless one is stored already, and returns
	// the stored pair. Nodes starting together all get the same pair.
	EnsureVAPIDKeys(ctx context.Context, k VAPIDKeys) (VAPIDKeys, error)
}
