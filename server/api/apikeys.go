package api

import (
	"errors"
	"net/http"

	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/store"
)

// The API-key endpoints have better-auth's paths and bodies (PizzaPi's UI calls them), and take
// the browser session only: an API key cannot list, mint or delete keys, so a leaked key cannot
// make itself permanent.

// browser wraps an endpoint that only a signed-in browser (the session cookie) may call.
func (a *api) browser(h authedFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := a.caller(r, "")
		if err != nil {
			return err
		}
		return h(w, r, u)
	}
}

// listAPIKeys is GET /api/auth/api-key/list: the caller's keys, newest first, as a JSON array.
func (a *api) listAPIKeys(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	keys, err := a.Accounts.APIKeys(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := []byte{'['}
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		rk := restAPIKey(k)
		out = rk.AppendJSON(out)
	}
	writeRaw(w, http.StatusOK, append(out, ']'))
	return nil
}

// createAPIKey is POST /api/auth/api-key/create: a new key, shown in this reply only.
func (a *api) createAPIKey(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	var req rest.CreateAPIKeyRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	key, k, err := a.Accounts.CreateAPIKey(r.Context(), u.ID, req.Name.Or(""))
	if err != nil {
		return err
	}
	rk := restAPIKey(k)
	writeJSON(w, http.StatusOK, &rest.CreateAPIKeyResponse{
		ID: rk.ID, Name: rk.Name, Start: rk.Start, CreatedAt: rk.CreatedAt,
		LastRequest: rk.LastRequest, ExpiresAt: rk.ExpiresAt, Enabled: rk.Enabled, Key: key,
	})
	return nil
}

// deleteAPIKey is POST /api/auth/api-key/delete: the key stops working at once; 404 unless it is
// one of the caller's.
func (a *api) deleteAPIKey(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	var req rest.DeleteAPIKeyRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	if err := a.Accounts.DeleteAPIKey(r.Context(), u.ID, req.KeyID); err != nil {
		if isNotFound(err) {
			return errorf(http.StatusNotFound, "API key not found")
		}
		return err
	}
	writeJSON(w, http.StatusOK, &rest.DeleteAPIKeyResponse{Success: true})
	return nil
}

func restAPIKey(k store.APIKey) rest.APIKey {
	var name, start, used *string
	if k.Name != "" {
		name = &k.Name
	}
	if k.Prefix != "" {
		start = &k.Prefix
	}
	if !k.LastUsedAt.IsZero() {
		used = optionalTime(&k.LastUsedAt)
	}
	return rest.APIKey{ID: k.ID, Name: name, Start: start, CreatedAt: live.FormatTime(k.CreatedAt), LastRequest: used, Enabled: true}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
