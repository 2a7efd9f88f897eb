// Package push sends Web Push notifications (RFC 8030) to the browsers of users whose agent
// sessions nobody is watching: it keeps their subscriptions in the durable store, signs with the
// relay's VAPID keys (RFC 8292, the same pair on every node), encrypts with aes128gcm (RFC 8291)
// through github.com/SherClockHolmes/webpush-go, and delivers from a bounded queue with a bounded
// number of workers, so that a slow push service never holds up the relay's event pipeline.
//
// A Service implements core.Notifier. Each notification is claimed by its id before it is sent
// (in Redis on a cluster), so that one event produces one notification per subscription however
// many nodes see it. A push service answering 404 or 410 has dropped the subscription, which is
// then deleted; 429 and 5xx answers and network failures are retried with exponential backoff a
// bounded number of times.
package push

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/store"
)

// Options configures a Service. Store, Keys and Subject are required.
type Options struct {
	// Store keeps the subscriptions.
	Store store.PushStore
	// Keys sign the requests (see LoadKeys).
	Keys Keys
	// Subject is the VAPID subject, a mailto: or https: URL (see Subject).
	Subject string
	// Policy decides which endpoints are accepted (default: public https only).
	Policy Policy
	// Claims make a notification go out once across nodes (default: this process only).
	Claims Claims
	// Workers is how many requests to push services run at once (default 4).
	Workers int
	// QueueSize bounds the notifications and deliveries waiting for a worker; beyond it they are
	// dropped and counted (default 1024).
	QueueSize int
	// Attempts is how many times a delivery is tried before it is given up (default 4).
	Attempts int
	// RetryDelay is the wait before the first retry, doubled for each further one up to
	// MaxRetryDelay (defaults 1 s and 1 min). A Retry-After answer is honoured up to MaxRetryDelay.
	RetryDelay, MaxRetryDelay time.Duration
	// RequestTimeout bounds one request to a push service (default 10 s).
	RequestTimeout time.Duration
	// MaxSubscriptions is how many subscriptions a user keeps; the oldest beyond it are deleted
	// (default 20).
	MaxSubscriptions int
	// Observer is told about every outcome (default: nothing).
	Observer Observer
	// Logger receives failures (default: discarded).
	Logger *slog.Logger
	// Now is the clock of subscription times (default time.Now).
	Now func() time.Time
}

// Observer counts what happens to notifications (server/metrics implements it).
type Observer interface {
	// PushDelivery records the outcome of one request to a push service: "sent", "retried",
	// "gone" (404/410, the subscription deleted), "failed" (refused for good) or "gave_up" (out of
	// attempts).
	PushDelivery(outcome string)
	// PushDropped records a notification or delivery that was not attempted: "queue_full",
	// "closed", "claim_failed" or "refused_endpoint".
	PushDropped(reason string)
}

// Service is the Web Push notifier and the subscription service of one node.
type Service struct {
	opts   Options
	client httpDoer
	queue  chan job

	ctx    context.Context // cancelled by Close: in-flight requests stop
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	retries map[*time.Timer]struct{} // scheduled retries, stopped by Close
}

var _ core.Notifier = (*Service)(nil)

// New starts a service's workers; Close stops them.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("push: no store")
	}
	if _, err := ParseKeys(o.Keys.Public, o.Keys.Private); err != nil {
		return nil, err
	}
	if err := CheckSubject(o.Subject); err != nil {
		return nil, err
	}
	if o.Claims == nil {
		o.Claims = NewMemoryClaims()
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = time.Minute
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 10 * time.Second
	}
	if o.MaxSubscriptions <= 0 {
		o.MaxSubscriptions = 20
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{opts: o, client: o.Policy.client(o.RequestTimeout), queue: make(chan job, o.QueueSize), retries: map[*time.Timer]struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for range o.Workers {
		s.wg.Go(s.work)
	}
	return s, nil
}

// PublicKey returns the VAPID public key browsers subscribe with.
func (s *Service) PublicKey() string { return s.opts.Keys.Public }

// Close stops the service: queued notifications and scheduled retries are dropped, requests in
// flight are cancelled, and Close returns when the workers have stopped.
func (s *Service) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for t := range s.retries {
		t.Stop()
	}
	clear(s.retries)
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Notify implements core.Notifier: the notification is queued for a worker, or dropped (and
// counted) when the queue is full, so the caller never waits for a push service.
func (s *Service) Notify(_ context.Context, n core.Notification) {
	s.enqueue(job{note: &n})
}

// InputError is a request the service refuses, with a message for the client.
type InputError struct{ Message string }

// Error returns the message.
func (e *InputError) Error() string { return e.Message }

type nopObserver struct{}

func (nopObserver) PushDelivery(string) {}
func (nopObserver) PushDropped(string)  {}
