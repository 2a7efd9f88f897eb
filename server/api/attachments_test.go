package api_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/api"
)

// upload is a file of a multipart upload.
type upload struct {
	field, name, contentType, content string
}

// multipartCall builds an upload of files to a session.
func multipartCall(t *testing.T, sessionID string, files ...upload) call {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("note", "not a file"); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+f.field+`"; filename="`+f.name+`"`)
		if f.contentType != "" {
			h.Set("Content-Type", f.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(f.content))
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return call{method: "POST", path: "/api/sessions/" + sessionID + "/attachments", body: buf.String(), contentType: mw.FormDataContentType()}
}

func TestAttachmentUploadAndDownload(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.newUser(t, "Ada"), e.newUser(t, "Bob")
	id := e.connectCLI(t, ada, "/home/ada")

	r := e.do(t, ada.as(multipartCall(t, id,
		upload{"files", "shot.png", "image/png", "\x89PNG fake"},
		upload{"file", "notes ü.txt", "", "hello"},
	)))
	wantStatus(t, r, http.StatusOK)
	got := decode[rest.AttachmentsResponse](t, r).Attachments
	if len(got) != 2 {
		t.Fatalf("attachments %+v", got)
	}
	if got[0].Filename != "shot.png" || got[0].MimeType != "image/png" || got[0].Size != 9 {
		t.Errorf("first attachment %+v", got[0])
	}
	if got[1].Filename != "notes ü.txt" || got[1].MimeType != "application/octet-stream" || got[1].Size != 5 {
		t.Errorf("second attachment %+v", got[1])
	}
	if exp, err := time.Parse(time.RFC3339, got[0].ExpiresAt); err != nil || exp.Before(e.clock.now()) {
		t.Errorf("expiresAt %q", got[0].ExpiresAt)
	}

	// On disk: a private directory, random names, never the user's.
	info, err := os.Stat(e.dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("attachment dir: %v %v", info, err)
	}
	entries, _ := os.ReadDir(e.dir)
	if len(entries) != 2 {
		t.Fatalf("%d files on disk, want 2", len(entries))
	}
	for _, de := range entries {
		if strings.Contains(de.Name(), "shot") || strings.Contains(de.Name(), "notes") {
			t.Errorf("file stored under the user's name: %s", de.Name())
		}
		if fi, _ := de.Info(); fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode %v", fi.Mode())
		}
	}

	// Download with the key header, the cookie and a download token.
	path := "/api/attachments/" + got[1].AttachmentID
	token := decode[rest.AttachmentTokenResponse](t, e.do(t, ada.as(call{method: "POST", path: path + "/token"})))
	for _, c := range []call{
		ada.as(call{method: "GET", path: path}),
		{method: "GET", path: path, cookie: ada.cookie},
		{method: "GET", path: path + "?token=" + url.QueryEscape(token.Token)},
	} {
		r := e.do(t, c)
		wantStatus(t, r, http.StatusOK)
		if string(r.body) != "hello" {
			t.Errorf("body %q", r.body)
		}
		h := r.header
		if h.Get("Content-Type") != "application/octet-stream" || h.Get("Content-Length") != "5" ||
			h.Get("X-Attachment-Id") != got[1].AttachmentID || h.Get("X-Attachment-Filename") != "notes%20%C3%BC.txt" ||
			h.Get("Content-Disposition") != `inline; filename="notes _.txt"; filename*=UTF-8''notes%20%C3%BC.txt` ||
			h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("headers %v", h)
		}
	}
	r = e.do(t, ada.as(call{method: "GET", path: "/api/attachments/" + got[0].AttachmentID}))
	if r.header.Get("Content-Type") != "image/png" || string(r.body) != "\x89PNG fake" {
		t.Errorf("png: %v %q", r.header, r.body)
	}

	// Bob's view of Ada's files is the same as of files that do not exist.
	wantError(t, e.do(t, bob.as(call{method: "GET", path: path})), http.StatusNotFound, "Attachment not found")
	wantError(t, e.do(t, bob.as(call{method: "POST", path: path + "/token"})), http.StatusNotFound, "Attachment not found")
	wantError(t, e.do(t, ada.as(call{method: "GET", path: "/api/attachments/nope"})), http.StatusNotFound, "Attachment not found")
	wantError(t, e.do(t, call{method: "GET", path: path}), http.StatusUnauthorized, "Unauthorized")
}

func TestAttachmentUploadRefusals(t *testing.T) {
	e := newEnv(t, func(o *options) { o.deps.AttachmentMaxBytes = 16 })
	ada, bob := e.newUser(t, "Ada"), e.newUser(t, "Bob")
	id := e.connectCLI(t, ada, "/home/ada")

	wantError(t, e.do(t, ada.as(multipartCall(t, id))), http.StatusBadRequest, "No files uploaded")
	wantError(t, e.do(t, ada.as(multipartCall(t, "not-live", upload{"file", "a.txt", "", "x"}))), http.StatusNotFound, "Session is not live")
	wantError(t, e.do(t, bob.as(multipartCall(t, id, upload{"file", "a.txt", "", "x"}))), http.StatusNotFound, "Session is not live")
	wantError(t, e.do(t, ada.as(multipartCall(t, id, upload{"other", "a.txt", "", "x"}))), http.StatusBadRequest, "No files uploaded")
	wantError(t, e.do(t, ada.as(call{method: "POST", path: "/api/sessions/" + id + "/attachments", body: `{}`})), http.StatusUnsupportedMediaType, "")

	r := e.do(t, ada.as(multipartCall(t, id, upload{"files", "ok.txt", "", "small"}, upload{"files", "big.bin", "", strings.Repeat("x", 17)})))
	wantError(t, r, http.StatusRequestEntityTooLarge, "File too large: big.bin exceeds 16 bytes")
	if entries, _ := os.ReadDir(e.dir); len(entries) != 0 {
		t.Errorf("%d files left behind by a refused upload", len(entries))
	}
	wantStatus(t, e.do(t, ada.as(multipartCall(t, id, upload{"files", "exact.bin", "", strings.Repeat("x", 16)}))), http.StatusOK)

	var many []upload
	for i := range 21 {
		many = append(many, upload{"files", "f" + strconv.Itoa(i), "", "x"})
	}
	wantError(t, e.do(t, ada.as(multipartCall(t, id, many...))), http.StatusRequestEntityTooLarge, "")

	// The whole body is bounded too, fields that are not files included.
	huge := multipartCall(t, id, upload{"file", "a.txt", "", "x"})
	huge.body = strings.Replace(huge.body, "not a file", strings.Repeat("y", 2<<20), 1)
	wantError(t, e.do(t, ada.as(huge)), http.StatusRequestEntityTooLarge, "")
}

func TestAttachmentExpiryAndSweep(t *testing.T) {
	e := newEnv(t, func(o *options) { o.deps.AttachmentTTL = time.Minute })
	ada := e.newUser(t, "Ada")
	id := e.connectCLI(t, ada, "/home/ada")
	got := decode[rest.AttachmentsResponse](t, e.do(t, ada.as(multipartCall(t, id, upload{"file", "a.txt", "", "x"})))).Attachments
	path := "/api/attachments/" + got[0].AttachmentID
	wantStatus(t, e.do(t, ada.as(call{method: "GET", path: path})), http.StatusOK)

	e.clock.advance(2 * time.Minute)
	wantError(t, e.do(t, ada.as(call{method: "GET", path: path})), http.StatusNotFound, "Attachment not found")

	n, err := api.SweepAttachments(context.Background(), e.store, e.dir, e.clock.now())
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if entries, _ := os.ReadDir(e.dir); len(entries) != 0 {
		t.Errorf("%d files left after the sweep", len(entries))
	}
	if n, err := api.SweepAttachments(context.Background(), e.store, e.dir, e.clock.now()); err != nil || n != 0 {
		t.Errorf("second sweep: %d, %v", n, err)
	}
}
