// Package pushtest is a Web Push service for tests: a local HTTP endpoint that receives the
// relay's push requests the way a real push service would, checks their VAPID authorization
// (RFC 8292: an ES256 JWT signed with the advertised public key, for this endpoint's origin, not
// expired), decrypts their aes128gcm bodies (RFC 8291) with the private key of a browser made in
// the test, and hands each message to the test. It answers as the test tells it to (410, 429, 503,
// or not at all).
package pushtest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/rest"
)

// Browser is a push subscription as a browser holds it: its endpoint on the Service, its P-256
// key pair and its authentication secret.
type Browser struct {
	Name     string
	Endpoint string
	key      *ecdh.PrivateKey
	auth     []byte
}

// P256DH is the browser's public key as PushSubscription.toJSON() gives it.
func (b *Browser) P256DH() string { return b64(b.key.PublicKey().Bytes()) }

// Auth is the browser's authentication secret as PushSubscription.toJSON() gives it.
func (b *Browser) Auth() string { return b64(b.auth) }

// Subscription is the JSON body of POST /api/push/subscribe for this browser.
func (b *Browser) Subscription(enabledEvents string) map[string]any {
	body := map[string]any{"endpoint": b.Endpoint, "keys": map[string]any{"p256dh": b.P256DH(), "auth": b.Auth()}}
	if enabledEvents != "" {
		body["enabledEvents"] = enabledEvents
	}
	return body
}

// Message is one request the Service received.
type Message struct {
	// Browser is the name of the browser it was for; N counts that browser's requests (from 1).
	Browser string
	N       int
	// Status is what the Service answered.
	Status int
	// Header holds the request's headers (TTL, Urgency, Topic, Authorization...).
	Header http.Header
	// Subject is the JWT's sub claim.
	Subject string
	// Payload is the decrypted notification; Raw its JSON.
	Payload rest.PushNotification
	Raw     []byte
	// Err says what was wrong with the request (authorization, encryption); nil when it was valid.
	Err error
}

// Responder decides the status of a browser's nth request (from 1). It may block until ctx
// ends to play a push service that hangs.
type Responder func(ctx context.Context, browser string, n int) int

// Service is the local push service.
type Service struct {
	// URL is the service's origin, http://127.0.0.1:port.
	URL string

	mu        sync.Mutex
	publicKey []byte // the VAPID key the relay advertises
	browsers  map[string]*Browser
	counts    map[string]int
	respond   Responder
	messages  chan Message
}

// Start runs a Service until the test ends. vapidPublicKey is the relay's key (as GET
// /api/push/vapid-public-key serves it); every request must be signed with it.
func Start(t testing.TB, vapidPublicKey string) *Service {
	t.Helper()
	pub, err := base64.RawURLEncoding.DecodeString(vapidPublicKey)
	if err != nil || len(pub) != 65 {
		t.Fatalf("pushtest: VAPID public key %q is not a base64url P-256 point", vapidPublicKey)
	}
	s := &Service{publicKey: pub, browsers: map[string]*Browser{}, counts: map[string]int{}, messages: make(chan Message, 1000)}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// NewBrowser makes a browser subscribed at this service under a name of its own.
func (s *Service) NewBrowser(t testing.TB, name string) *Browser {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{Name: name, Endpoint: s.URL + "/push/" + name, key: key, auth: make([]byte, 16)}
	_, _ = rand.Read(b.auth)
	s.mu.Lock()
	s.browsers[name] = b
	s.mu.Unlock()
	return b
}

// Respond sets how the service answers (default: 201 Created to everything).
func (s *Service) Respond(r Responder) {
	s.mu.Lock()
	s.respond = r
	s.mu.Unlock()
}

// Next returns the next message, failing the test when none comes within timeout (a hang guard).
func (s *Service) Next(t testing.TB, timeout time.Duration) Message {
	t.Helper()
	select {
	case m := <-s.messages:
		if m.Err != nil {
			t.Fatalf("push request for %s (#%d) is invalid: %v", m.Browser, m.N, m.Err)
		}
		return m
	case <-time.After(timeout):
		t.Fatalf("no push message within %v", timeout)
	}
	return Message{}
}

// TryNext returns the next message within d, or false (an invalid request is returned with Err).
func (s *Service) TryNext(d time.Duration) (Message, bool) {
	select {
	case m := <-s.messages:
		return m, true
	case <-time.After(d):
		return Message{}, false
	}
}

// Quiet fails the test when a message arrives within d.
func (s *Service) Quiet(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-s.messages:
		t.Fatalf("unexpected push message for %s: %s (err %v)", m.Browser, m.Raw, m.Err)
	case <-time.After(d):
	}
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/push/")
	s.mu.Lock()
	b := s.browsers[name]
	s.counts[name]++
	m := Message{Browser: name, N: s.counts[name], Header: r.Header.Clone()}
	respond := s.respond
	s.mu.Unlock()
	if !ok || b == nil || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	if err == nil {
		m.Subject, err = s.checkAuthorization(r.Header.Get("Authorization"))
	}
	if err == nil {
		err = checkHeaders(r.Header)
	}
	if err == nil {
		m.Raw, err = b.decrypt(body)
	}
	if err == nil {
		err = json.Unmarshal(m.Raw, &m.Payload)
	}
	m.Err = err
	m.Status = http.StatusCreated
	if err != nil {
		m.Status = http.StatusBadRequest
	} else if respond != nil {
		m.Status = respond(r.Context(), name, m.N)
	}
	if r.Context().Err() != nil {
		return // the relay gave up waiting
	}
	s.messages <- m
	w.WriteHeader(m.Status)
}

// checkHeaders checks what RFC 8030 and RFC 8291 ask of a push request.
func checkHeaders(h http.Header) error {
	if h.Get("Content-Encoding") != "aes128gcm" {
		return fmt.Errorf("Content-Encoding %q, want aes128gcm", h.Get("Content-Encoding"))
	}
	if h.Get("TTL") == "" {
		return errors.New("no TTL header")
	}
	return nil
}

// checkAuthorization verifies a "vapid t=<jwt>, k=<key>" header and returns the JWT's subject.
func (s *Service) checkAuthorization(h string) (string, error) {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return "", fmt.Errorf("Authorization %q is not a vapid scheme", h)
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		params[k] = v
	}
	if params["k"] != b64(s.publicKey) {
		return "", fmt.Errorf("k=%q is not the relay's advertised public key %q", params["k"], b64(s.publicKey))
	}
	parts := strings.Split(params["t"], ".")
	if len(parts) != 3 {
		return "", errors.New("t is not a JWT")
	}
	var header struct{ Alg, Typ string }
	if err := decodeJSON(parts[0], &header); err != nil || header.Alg != "ES256" {
		return "", fmt.Errorf("JWT header %s: alg must be ES256", parts[0])
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "", errors.New("JWT signature is not 64 bytes of base64url")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), s.publicKey)
	if err != nil {
		return "", err
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return "", errors.New("JWT signature does not verify with the advertised public key")
	}
	var claims struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}
	if err := decodeJSON(parts[1], &claims); err != nil {
		return "", fmt.Errorf("JWT claims: %w", err)
	}
	if claims.Aud != s.URL {
		return "", fmt.Errorf("JWT aud %q, want this push service's origin %q", claims.Aud, s.URL)
	}
	now := time.Now().Unix()
	if claims.Exp <= now || claims.Exp > now+24*3600 {
		return "", fmt.Errorf("JWT exp %d is not within the next 24 hours", claims.Exp)
	}
	return claims.Sub, nil
}

// decrypt opens an aes128gcm body (RFC 8188) encrypted for the browser (RFC 8291).
func (b *Browser) decrypt(body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("body shorter than the aes128gcm header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || idlen != 65 {
		return nil, fmt.Errorf("key id of %d bytes, want the 65-byte sender key", idlen)
	}
	senderKey, ciphertext := body[21:21+idlen], body[21+idlen:]
	if rs < 18 || len(ciphertext) > int(rs) {
		return nil, fmt.Errorf("record size %d for %d bytes: one record expected", rs, len(ciphertext))
	}
	sender, err := ecdh.P256().NewPublicKey(senderKey)
	if err != nil {
		return nil, fmt.Errorf("sender key: %w", err)
	}
	shared, err := b.key.ECDH(sender)
	if err != nil {
		return nil, err
	}
	info := append(append([]byte("WebPush: info\x00"), b.key.PublicKey().Bytes()...), senderKey...)
	ikm, err := hkdf.Key(sha256.New, shared, b.auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypting: %w", err)
	}
	// The last record ends with the delimiter 0x02 followed by zero padding.
	end := len(plain) - 1
	for end >= 0 && plain[end] == 0 {
		end--
	}
	if end < 0 || plain[end] != 2 {
		return nil, errors.New("no last-record delimiter after the padding")
	}
	return plain[:end], nil
}

func decodeJSON(part string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
