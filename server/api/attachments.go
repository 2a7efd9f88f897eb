package api

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/store"
)

// maxUploadFiles bounds how many files one upload may carry.
const maxUploadFiles = 20

// maxFilenameLength bounds a stored file name (longer names are cut).
const maxFilenameLength = 255

// uploadAttachments is POST /api/sessions/{id}/attachments: store the files of a multipart upload
// (fields `files` or `file`) for a live session of the caller.
func (a *api) uploadAttachments(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	s, err := a.Core.Session(r.Context(), u.ID, r.PathValue("id"))
	if errors.Is(err, live.ErrNotFound) {
		return errorf(http.StatusNotFound, "Session is not live")
	}
	if err != nil {
		return err
	}
	if !hasMediaType(r, "multipart/form-data") {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type must be multipart/form-data")
	}
	quota := a.AttachmentQuotaBytes
	if quota > 0 {
		used, err := a.Store.AttachmentBytes(r.Context(), u.ID, a.Now())
		if err != nil {
			return err
		}
		if used >= quota {
			return quotaError(quota, used)
		}
	}
	a.minRate(w, r, a.AttachmentRequestMaxBytes)
	r.Body = http.MaxBytesReader(w, r.Body, a.AttachmentRequestMaxBytes+a.MaxBodyBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return errorf(http.StatusBadRequest, "Invalid multipart body")
	}
	if err := os.MkdirAll(a.AttachmentDir, 0o700); err != nil {
		return err
	}
	var saved []store.Attachment
	budget := a.AttachmentRequestMaxBytes
	err = a.readParts(mr, func(p *multipart.Part) error {
		if len(saved) == maxUploadFiles {
			return errorf(http.StatusRequestEntityTooLarge, "Too many files (at most "+strconv.Itoa(maxUploadFiles)+")")
		}
		att, err := a.saveFile(p, s.ID, s.UserID, budget)
		if err != nil {
			return err
		}
		budget -= att.Size
		saved = append(saved, att)
		return nil
	})
	if err == nil && len(saved) == 0 {
		err = errorf(http.StatusBadRequest, "No files uploaded")
	}
	if err == nil {
		err = a.Store.SaveAttachments(r.Context(), u.ID, saved, quota, a.Now())
		if errors.Is(err, store.ErrQuota) {
			used, _ := a.Store.AttachmentBytes(r.Context(), u.ID, a.Now())
			err = quotaError(quota, used)
		}
	}
	if err != nil {
		a.removeFiles(saved)
		return err
	}
	resp := rest.AttachmentsResponse{Attachments: make([]rest.AttachmentInfo, 0, len(saved))}
	for _, at := range saved {
		resp.Attachments = append(resp.Attachments, rest.AttachmentInfo{
			AttachmentID: at.ID, Filename: at.Filename, MimeType: at.MediaType, Size: at.Size, ExpiresAt: live.FormatTime(at.ExpiresAt),
		})
	}
	writeJSON(w, http.StatusOK, &resp)
	return nil
}

// readParts calls file for every file part in the `files` and `file` fields and skips the rest.
func (a *api) readParts(mr *multipart.Reader, file func(*multipart.Part) error) error {
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return errorf(http.StatusBadRequest, "Invalid multipart body")
		}
		name := p.FormName()
		if (name == "files" || name == "file") && p.FileName() != "" {
			err = file(p)
		}
		_ = p.Close()
		if err != nil {
			return err
		}
	}
}

// quotaError is the 413 of an upload that would take its user over the stored-bytes quota.
func quotaError(quota, used int64) error {
	return errorf(http.StatusRequestEntityTooLarge, "Attachment quota exceeded: you may keep "+strconv.FormatInt(quota, 10)+
		" bytes of attachments until they expire, and "+strconv.FormatInt(used, 10)+" are in use")
}

// saveFile writes one uploaded file under a random name in the attachment directory; larger than
// AttachmentMaxBytes, or than budget (what is left of the upload's total), is a 413. The record
// is returned, not yet stored.
func (a *api) saveFile(p *multipart.Part, sessionID, ownerID string, budget int64) (store.Attachment, error) {
	filename := p.FileName()
	if len(filename) > maxFilenameLength {
		filename = strings.ToValidUTF8(filename[:maxFilenameLength], "")
	}
	mediaType := "application/octet-stream"
	if mt, params, err := mime.ParseMediaType(p.Header.Get("Content-Type")); err == nil {
		if formatted := mime.FormatMediaType(mt, params); formatted != "" {
			mediaType = formatted
		}
	}
	now := a.Now()
	at := store.Attachment{
		ID: uuid.NewString(), SessionID: sessionID, UserID: ownerID, Filename: filename, MediaType: mediaType,
		Path: auth.NewToken(16), CreatedAt: now, ExpiresAt: now.Add(a.AttachmentTTL),
	}
	f, err := os.OpenFile(filepath.Join(a.AttachmentDir, at.Path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return at, err
	}
	limit := min(a.AttachmentMaxBytes, budget)
	at.Size, err = io.Copy(f, io.LimitReader(p, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
	case at.Size > a.AttachmentMaxBytes:
		err = errorf(http.StatusRequestEntityTooLarge, "File too large: "+filename+" exceeds "+strconv.FormatInt(a.AttachmentMaxBytes, 10)+" bytes")
	case at.Size > budget:
		err = errorf(http.StatusRequestEntityTooLarge, "Upload too large: the files of one request may total at most "+
			strconv.FormatInt(a.AttachmentRequestMaxBytes, 10)+" bytes")
	}
	if err != nil {
		a.removeFiles([]store.Attachment{at})
		return at, err
	}
	return at, nil
}

// removeFiles deletes the files of attachments that will not be kept.
func (a *api) removeFiles(atts []store.Attachment) {
	for _, at := range atts {
		if err := os.Remove(attachmentPath(a.AttachmentDir, at)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			a.Logger.Warn("removing an attachment file", "attachment", at.ID, "error", err)
		}
	}
}

// attachmentPath is where an attachment's bytes live; only the base name of the record's path is
// used, so a record cannot point outside dir.
func attachmentPath(dir string, at store.Attachment) string {
	return filepath.Join(dir, filepath.Base(at.Path))
}

// downloadAttachment is GET /api/attachments/{id}: the file, for its owner, identified by an API
// key (x-api-key header), the session cookie, or a download token (?token=, see downloadToken).
// An API key in the URL (PizzaPi's deprecated ?apiKey=) is refused: URLs end up in access logs.
// Another user's attachment is answered like a missing one.
func (a *api) downloadAttachment(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Has("apiKey") {
		return errorf(http.StatusBadRequest, "API keys are not accepted in URLs: send the x-api-key header, or get a download token with POST /api/attachments/{id}/token")
	}
	notFound := errorf(http.StatusNotFound, "Attachment not found")
	at, err := a.Store.Attachment(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !at.ExpiresAt.After(a.Now())) {
		err = notFound
	}
	if token := q.Get("token"); token != "" {
		if err == nil && !a.validDownloadToken(token, at) {
			err = errorf(http.StatusUnauthorized, "Invalid or expired download token")
		}
	} else if u, cerr := a.caller(r, r.Header.Get("x-api-key")); cerr != nil {
		return cerr
	} else if err == nil && at.UserID != u.ID {
		err = notFound
	}
	if err != nil {
		return err
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	f, err := os.Open(attachmentPath(a.AttachmentDir, at))
	if errors.Is(err, fs.ErrNotExist) {
		return errorf(http.StatusNotFound, "Attachment not found")
	}
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", at.MediaType)
	h.Set("Content-Length", strconv.FormatInt(info.Size(), 10))
	h.Set("Content-Disposition", contentDisposition(at.Filename))
	h.Set("X-Attachment-Id", at.ID)
	h.Set("X-Attachment-Filename", headerFilename(at.Filename))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Cache-Control", "private, no-store")
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeTimeout + transferTime(info.Size())))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, f); err != nil {
		a.Logger.Debug("sending an attachment", "attachment", at.ID, "error", err)
	}
	return nil
}

// contentDisposition shows a file inline under its name: an ASCII fallback plus the UTF-8 name
// (RFC 6266 and RFC 5987), as PizzaPi sends it.
func contentDisposition(filename string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, filename)
	return `inline; filename="` + ascii + `"; filename*=UTF-8''` + headerFilename(filename)
}

// headerFilename percent-encodes a file name for a header: every byte but ASCII letters, digits
// and "-._~" becomes %XX (RFC 5987 value-chars).
func headerFilename(filename string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(filename); i++ {
		c := filename[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// SweepAttachments deletes the attachments that expired before now: their records in st and
// their files in dir. It returns how many were deleted; file errors other than a missing file are
// joined into the error.
func SweepAttachments(ctx context.Context, st store.Store, dir string, now time.Time) (int, error) {
	expired, err := st.DeleteExpiredAttachments(ctx, now)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, at := range expired {
		if err := os.Remove(attachmentPath(dir, at)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return len(expired), errors.Join(errs...)
}
