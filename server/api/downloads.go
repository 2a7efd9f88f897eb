package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/store"
)

// downloadTokenTTL is how long a download token works.
const downloadTokenTTL = 5 * time.Minute

// downloadToken is POST /api/attachments/{id}/token: a token that downloads the caller's
// attachment for downloadTokenTTL without credentials, for an <img> or a link. It is
// "<expiry in Unix ms>.<HMAC-SHA256 of the attachment id, its owner and the expiry>", so it needs
// no storage and cannot be turned into a token for another file or user.
func (a *api) downloadToken(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	at, err := a.Store.Attachment(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (at.UserID != u.ID || !at.ExpiresAt.After(a.Now()))) {
		return errorf(http.StatusNotFound, "Attachment not found")
	}
	if err != nil {
		return err
	}
	expires := a.Now().Add(downloadTokenTTL)
	if at.ExpiresAt.Before(expires) {
		expires = at.ExpiresAt
	}
	ms := strconv.FormatInt(expires.UnixMilli(), 10)
	writeJSON(w, http.StatusOK, &rest.AttachmentTokenResponse{Token: ms + "." + a.downloadMAC(at, ms), ExpiresAt: live.FormatTime(expires)})
	return nil
}

// validDownloadToken reports whether token is an unexpired download token of at.
func (a *api) validDownloadToken(token string, at store.Attachment) bool {
	ms, mac, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || !time.UnixMilli(exp).After(a.Now()) {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(a.downloadMAC(at, ms)))
}

// downloadMAC signs an attachment's id and owner with an expiry.
func (a *api) downloadMAC(at store.Attachment, expiresMs string) string {
	m := hmac.New(sha256.New, a.DownloadKey)
	m.Write([]byte("pizzapi-download\x00" + at.ID + "\x00" + at.UserID + "\x00" + expiresMs))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
