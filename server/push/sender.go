package push

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/SherClockHolmes/webpush-go"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/store"
)

// claimTTL is how long a notification's id stays claimed: longer than any CLI takes to resend
// an event after a reconnect.
const claimTTL = 24 * time.Hour

// httpDoer sends a request (an *http.Client).
type httpDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// job is a queued notification to fan out to its user's subscriptions, or one delivery to a
// subscription (a first attempt or a retry).
type job struct {
	note *core.Notification
	send *message
}

// message is one notification on its way to one subscription.
type message struct {
	sub     store.PushSubscription
	kind    string
	payload []byte
	topic   string
	attempt int // attempts made so far
}

// enqueue queues a job without waiting; a full queue or a closed service drops it.
func (s *Service) enqueue(j job) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		s.opts.Observer.PushDropped("closed")
		return
	}
	select {
	case s.queue <- j:
	default:
		s.opts.Observer.PushDropped("queue_full")
		if j.note != nil {
			s.opts.Logger.Warn("push queue full: notification dropped", "kind", j.note.Kind, "session", j.note.SessionID)
		}
	}
}

// work runs queued jobs until the service closes.
func (s *Service) work() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case j := <-s.queue:
			if j.note != nil {
				s.fanOut(j.note)
			} else {
				s.deliver(j.send)
			}
		}
	}
}

// fanOut claims a notification and queues one delivery per subscription of its user that wants
// its kind.
func (s *Service) fanOut(n *core.Notification) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.RequestTimeout)
	defer cancel()
	if n.ID != "" {
		first, err := s.opts.Claims.Claim(ctx, n.ID, claimTTL)
		if err != nil {
			s.opts.Observer.PushDropped("claim_failed")
			s.opts.Logger.Warn("push: cannot claim a notification; not sent", "kind", n.Kind, "session", n.SessionID, "error", err)
			return
		}
		if !first {
			return // another node (or an earlier copy of the event) sent it
		}
	}
	subs, err := s.opts.Store.PushSubscriptions(ctx, n.UserID)
	if err != nil {
		s.opts.Logger.Error("push: loading subscriptions", "user", n.UserID, "error", err)
		return
	}
	var payload []byte
	for _, sub := range subs {
		if !wants(sub.EnabledEvents, n.Kind) {
			continue
		}
		if payload == nil {
			payload = encodePayload(n)
		}
		s.enqueue(job{send: &message{sub: sub, kind: n.Kind, payload: payload, topic: topic(n)}})
	}
}

// encodePayload is the JSON the service worker receives.
func encodePayload(n *core.Notification) []byte {
	p := rest.PushNotification{Type: rest.PushKind(n.Kind), Title: n.Title, Body: n.Body, SessionID: n.SessionID, URL: n.URL}
	if n.SessionName != "" {
		p.SessionName = protocol.Some(n.SessionName)
	}
	return p.AppendJSON(nil)
}

// topic lets a push service replace a pending notification of the same kind and session with a
// newer one (RFC 8030 Topic: at most 32 URL-safe base64 characters).
func topic(n *core.Notification) string {
	h := sha256.Sum256([]byte(n.Kind + "\x00" + n.SessionID))
	return b64(h[:])[:32]
}

// deliver makes one attempt and decides what follows: done, delete the subscription, or retry.
func (s *Service) deliver(m *message) {
	if err := s.opts.Policy.Check(m.sub.Endpoint); err != nil {
		s.opts.Observer.PushDropped("refused_endpoint")
		s.opts.Logger.Warn("push: endpoint no longer admitted; not sent", "endpoint", origin(m.sub.Endpoint), "error", err)
		return
	}
	m.attempt++
	status, retryAfter, err := s.send(m)
	switch {
	case err == nil && status >= 200 && status < 300:
		s.opts.Observer.PushDelivery("sent")
	case status == http.StatusNotFound || status == http.StatusGone:
		if err := s.opts.Store.DeletePushSubscriptionByID(s.ctx, m.sub.ID); err != nil && s.ctx.Err() == nil {
			s.opts.Logger.Error("push: deleting a subscription the push service dropped", "error", err)
		}
		s.opts.Observer.PushDelivery("gone")
	case errors.Is(err, context.Canceled) && s.ctx.Err() != nil:
		return // closing
	case err != nil && !isNetwork(err):
		// The stored keys cannot be encrypted for: the subscription is unusable (PizzaPi deletes
		// such rows too).
		s.opts.Logger.Warn("push: cannot encrypt for a subscription; deleting it", "endpoint", origin(m.sub.Endpoint), "error", err)
		if err := s.opts.Store.DeletePushSubscriptionByID(s.ctx, m.sub.ID); err != nil && s.ctx.Err() == nil {
			s.opts.Logger.Error("push: deleting an unusable subscription", "error", err)
		}
		s.opts.Observer.PushDelivery("failed")
	case retriable(status, err) && m.attempt < s.opts.Attempts:
		s.opts.Observer.PushDelivery("retried")
		s.retry(m, retryAfter)
	case retriable(status, err):
		s.opts.Observer.PushDelivery("gave_up")
		s.opts.Logger.Warn("push: giving up", "endpoint", origin(m.sub.Endpoint), "kind", m.kind, "attempts", m.attempt, "status", status, "error", err)
	default:
		s.opts.Observer.PushDelivery("failed")
		s.opts.Logger.Warn("push: refused by the push service", "endpoint", origin(m.sub.Endpoint), "kind", m.kind, "status", status, "error", err)
	}
}

// retriable reports whether a failure may pass on a later attempt: a network failure (not a
// refused address), 429 or a server error.
func retriable(status int, err error) bool {
	if err != nil {
		return !errors.Is(err, errRefusedAddress)
	}
	return status == http.StatusTooManyRequests || status >= 500
}

// isNetwork reports whether a send failed in the HTTP exchange, rather than before it (in
// encrypting or signing).
func isNetwork(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue)
}

// send makes one request to the subscription's push service and returns its status and any
// Retry-After delay.
func (s *Service) send(m *message) (status int, retryAfter time.Duration, err error) {
	d := deliveryOf(m.kind)
	ctx := s.opts.Policy.requestContext(s.ctx, m.sub.Endpoint)
	// The library pads the message in place when it has spare capacity: give it none, since the
	// payload is shared by the deliveries of a notification.
	resp, err := webpush.SendNotificationWithContext(ctx, slices.Clip(m.payload),
		&webpush.Subscription{Endpoint: m.sub.Endpoint, Keys: webpush.Keys{Auth: m.sub.Auth, P256dh: m.sub.P256DH}},
		&webpush.Options{
			HTTPClient:      s.client,
			Subscriber:      subscriber(s.opts.Subject),
			TTL:             int(d.ttl / time.Second),
			Urgency:         d.urgency,
			Topic:           m.topic,
			VAPIDPublicKey:  s.opts.Keys.Public,
			VAPIDPrivateKey: s.opts.Keys.Private,
		})
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
}

// retry schedules the next attempt: after Retry-After when the push service gave one, else after
// an exponentially growing delay with jitter, never beyond MaxRetryDelay.
func (s *Service) retry(m *message, retryAfter time.Duration) {
	delay := s.opts.RetryDelay << (m.attempt - 1)
	delay = delay/2 + rand.N(delay/2+1)
	if retryAfter > 0 {
		delay = retryAfter
	}
	delay = min(delay, s.opts.MaxRetryDelay)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		s.mu.Lock()
		delete(s.retries, t)
		s.mu.Unlock()
		s.enqueue(job{send: m})
	})
	s.retries[t] = struct{}{}
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// origin is what the logs show of an endpoint: its path is a capability, so only the origin.
func origin(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "?"
	}
	return u.Scheme + "://" + u.Host
}
