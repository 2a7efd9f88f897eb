package push

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

// Keys is a VAPID key pair (RFC 8292), both halves URL-safe base64 without padding: the 65-byte
// uncompressed P-256 public point and the 32-byte private scalar.
type Keys struct {
	Public  string
	Private string
}

// GenerateKeys makes a new key pair.
func GenerateKeys() (Keys, error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return Keys{}, fmt.Errorf("push: generating VAPID keys: %w", err)
	}
	return Keys{Public: b64(k.PublicKey().Bytes()), Private: b64(k.Bytes())}, nil
}

// ParseKeys checks a configured key pair: both halves decode (URL-safe or standard base64, padded
// or not) to a P-256 key of the right size, and the public key is the private key's. It returns
// the pair in its canonical encoding.
func ParseKeys(public, private string) (Keys, error) {
	pub, err := decodeBase64(public)
	if err != nil || len(pub) != 65 || pub[0] != 4 {
		return Keys{}, errors.New("the VAPID public key must be the base64 of a 65-byte uncompressed P-256 point")
	}
	priv, err := decodeBase64(private)
	if err != nil || len(priv) != 32 {
		return Keys{}, errors.New("the VAPID private key must be the base64 of a 32-byte P-256 scalar")
	}
	k, err := ecdh.P256().NewPrivateKey(priv)
	if err != nil {
		return Keys{}, fmt.Errorf("the VAPID private key is not a P-256 key: %w", err)
	}
	if !bytes.Equal(k.PublicKey().Bytes(), pub) {
		return Keys{}, errors.New("the VAPID public key does not belong to the private key")
	}
	return Keys{Public: b64(pub), Private: b64(priv)}, nil
}

// LoadKeys returns the relay's key pair: the one stored in the durable store, or a new one stored
// there when there is none yet, so that every node of a cluster signs with the same pair.
func LoadKeys(ctx context.Context, st store.PushStore, now time.Time) (Keys, error) {
	fresh, err := GenerateKeys()
	if err != nil {
		return Keys{}, err
	}
	stored, err := st.EnsureVAPIDKeys(ctx, store.VAPIDKeys{PublicKey: fresh.Public, PrivateKey: fresh.Private, CreatedAt: now})
	if err != nil {
		return Keys{}, fmt.Errorf("push: loading the VAPID keys: %w", err)
	}
	k, err := ParseKeys(stored.PublicKey, stored.PrivateKey)
	if err != nil {
		return Keys{}, fmt.Errorf("push: the stored VAPID keys are damaged: %w", err)
	}
	return k, nil
}

// FallbackSubject is the VAPID subject of a relay without an https base URL (PizzaPi's default).
const FallbackSubject = "mailto:admin@pizzapi.local"

// Subject returns the VAPID subject (the JWT "sub" claim) to sign with: the configured one, else
// the base URL when it is https, else FallbackSubject (fallback is then true, worth a warning:
// some push services refuse a subject that reaches nobody). A configured subject that is not a
// valid mailto: or https: URL is an error: Apple's push service refuses such a JWT (403
// BadJwtToken), so every notification would fail.
func Subject(configured, baseURL string) (subject string, fallback bool, err error) {
	if configured != "" {
		if err := CheckSubject(configured); err != nil {
			return "", false, err
		}
		return configured, false, nil
	}
	if strings.HasPrefix(baseURL, "https://") && CheckSubject(baseURL) == nil {
		return baseURL, false, nil
	}
	return FallbackSubject, true, nil
}

// CheckSubject reports whether s is a valid VAPID subject: mailto: with one plain address, or an
// https: URL with a host.
func CheckSubject(s string) error {
	if strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("VAPID subject %q contains spaces", s)
	}
	if addr, ok := strings.CutPrefix(s, "mailto:"); ok {
		a, err := mail.ParseAddress(addr)
		if err != nil || a.Address != addr || a.Name != "" || strings.ContainsAny(addr, "?<>") {
			return fmt.Errorf("VAPID subject %q must be mailto: followed by one email address", s)
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" || u.User != nil {
		return fmt.Errorf("VAPID subject %q must be a mailto: address or an https: URL", s)
	}
	return nil
}

// subscriber is what webpush-go takes for a subject. The library (v1.4.0) prefixes "mailto:" to
// any value that does not start with "https:", so a mailto: subject is passed without its scheme.
func subscriber(subject string) string {
	if addr, ok := strings.CutPrefix(subject, "mailto:"); ok {
		return addr
	}
	return subject
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// decodeBase64 decodes URL-safe or standard base64, with or without padding.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}
