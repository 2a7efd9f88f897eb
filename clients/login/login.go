// Package login obtains an API key from a relay with an email and password (PizzaPi's
// POST /api/register: it signs up a new email or checks the password of an existing one).
package login

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pizzapi/pizzapi/clients/settings"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/rest"
)

// Register asks the relay at server for an API key.
func Register(ctx context.Context, server, name, email, password string) (string, error) {
	base := settings.NormalizeURL(server)
	if base == "" {
		return "", errors.New("no relay URL given (--server)")
	}
	body := rest.RegisterRequest{Email: email, Password: password}
	if name != "" {
		body.Name = protocol.Some(name)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/register", bytes.NewReader(body.AppendJSON(nil)))
	if err != nil {
		return "", fmt.Errorf("bad relay URL %q: %w", server, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("cannot reach the relay at %s: %w", base, unwrapNetError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("reading the relay's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e rest.ErrorResponse
		if e.UnmarshalJSON(data) == nil && e.Error != "" {
			return "", fmt.Errorf("login refused (%d): %s", resp.StatusCode, e.Error)
		}
		return "", fmt.Errorf("login refused: HTTP %d from %s (is this a pizzapi relay?)", resp.StatusCode, base)
	}
	var ok rest.RegisterResponse
	if err := ok.UnmarshalJSON(data); err != nil {
		return "", fmt.Errorf("unexpected answer from %s: %w", base, err)
	}
	return ok.Key, nil
}

// unwrapNetError drops the URL the http client repeats around network errors.
func unwrapNetError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}
