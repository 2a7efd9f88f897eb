package api

import (
	"io"
	"mime"
	"net/http"
	"strconv"
)

// body is a generated request type: it decodes and validates itself.
type body interface {
	UnmarshalJSON(data []byte) error
}

// reply is a generated response type.
type reply interface {
	AppendJSON(b []byte) []byte
}

// readJSON decodes the request body into v. The body must be declared application/json (415
// otherwise), at most MaxBodyBytes long (413) and match v's schema (400 naming the JSON pointer).
func (a *api) readJSON(w http.ResponseWriter, r *http.Request, v body) error {
	if !hasMediaType(r, "application/json") {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.MaxBodyBytes))
	if err != nil {
		return err
	}
	return v.UnmarshalJSON(data)
}

// hasMediaType reports whether the request's Content-Type is want (parameters aside).
func hasMediaType(r *http.Request, want string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == want
}

// writeJSON sends v with the status.
func writeJSON(w http.ResponseWriter, status int, v reply) {
	writeRaw(w, status, v.AppendJSON(nil))
}

// writeRaw sends an encoded JSON body with the status.
func writeRaw(w http.ResponseWriter, status int, data []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
