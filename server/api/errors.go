package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/store"
)

// httpError is a failure with the status and message the client sees.
type httpError struct {
	status  int
	message string
}

// Error returns the message.
func (e *httpError) Error() string { return e.message }

func errorf(status int, message string) *httpError {
	return &httpError{status: status, message: message}
}

var (
	errUnauthorized = errorf(http.StatusUnauthorized, "Unauthorized")
	errForbidden    = errorf(http.StatusForbidden, "Forbidden")
)

// fail writes err as a JSON error response with a code. Errors the client caused carry their own
// status (or code) and message; anything else is logged and answered with a generic 500.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := http.StatusInternalServerError, rest.ErrorResponse{Code: protocol.ErrorCodeInternal}
	var (
		he  *httpError
		pe  *protocol.Error
		ve  *protocol.ValidationError
		ie  *accounts.InputError
		mbe *http.MaxBytesError
		ne  net.Error
	)
	switch {
	case errors.As(err, &he):
		status, body.Error = he.status, he.message
	case errors.As(err, &pe):
		status, body.Code, body.Error = statusOf(pe.Code), pe.Code, pe.Error()
	case errors.As(err, &ne) && ne.Timeout():
		status, body.Error = http.StatusRequestTimeout, "The request body did not arrive in time"
	case errors.As(err, &mbe):
		status, body.Error = http.StatusRequestEntityTooLarge, "Request body is larger than "+strconv.FormatInt(mbe.Limit, 10)+" bytes"
	case errors.As(err, &ve):
		status, body.Error, body.Pointer = http.StatusBadRequest, ve.Message, protocol.Some(ve.Pointer)
	case errors.As(err, &ie):
		status, body.Error = http.StatusBadRequest, ie.Message
	case errors.Is(err, accounts.ErrUnauthorized):
		status, body.Error = http.StatusUnauthorized, "Unauthorized"
	case errors.Is(err, accounts.ErrBadCredentials):
		status, body.Error = http.StatusUnauthorized, "Invalid email or password"
	case errors.Is(err, accounts.ErrBusy):
		w.Header().Set("Retry-After", "1")
		status, body.Error = http.StatusServiceUnavailable, "Too many logins in progress; try again shortly"
	case errors.Is(err, store.ErrQuota):
		status, body.Error = http.StatusRequestEntityTooLarge, "Attachment quota exceeded"
	case errors.Is(err, accounts.ErrSignupDisabled):
		status, body.Error = http.StatusForbidden, "Sign-up is disabled on this relay"
	case errors.Is(err, live.ErrNotFound), errors.Is(err, store.ErrNotFound):
		status, body.Error = http.StatusNotFound, "Not found"
	case errors.Is(err, context.DeadlineExceeded):
		status, body.Error = http.StatusGatewayTimeout, "Timed out"
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return // the client went away; nobody reads an answer
	default:
		a.Logger.Error("api request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		body.Error = "Internal server error"
	}
	if pe == nil && status != http.StatusInternalServerError {
		body.Code = codeOf(status)
	}
	writeJSON(w, status, &body)
}

// statusOf is the HTTP status of an error code.
func statusOf(code protocol.ErrorCode) int {
	switch code {
	case protocol.ErrorCodeUnauthorized, protocol.ErrorCodeInvalidToken:
		return http.StatusUnauthorized
	case protocol.ErrorCodeForbidden, protocol.ErrorCodeCollabDisabled:
		return http.StatusForbidden
	case protocol.ErrorCodeNotFound, protocol.ErrorCodeSessionNotFound, protocol.ErrorCodeRunnerNotFound, protocol.ErrorCodeTerminalNotFound:
		return http.StatusNotFound
	case protocol.ErrorCodeInvalid:
		return http.StatusBadRequest
	case protocol.ErrorCodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case protocol.ErrorCodeRateLimited:
		return http.StatusTooManyRequests
	case protocol.ErrorCodeConflict, protocol.ErrorCodeRunnerSecretMismatch:
		return http.StatusConflict
	case protocol.ErrorCodeSessionExpired, protocol.ErrorCodeSessionEnded:
		return http.StatusGone
	case protocol.ErrorCodeUnavailable:
		return http.StatusServiceUnavailable
	case protocol.ErrorCodeTimeout:
		return http.StatusGatewayTimeout
	case protocol.ErrorCodeUnsupported:
		return http.StatusNotImplemented
	case protocol.ErrorCodeRunnerOffline, protocol.ErrorCodeAgentOffline, protocol.ErrorCodeCommandFailed:
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// codeOf is the error code of an HTTP status the API answers with.
func codeOf(status int) protocol.ErrorCode {
	switch status {
	case http.StatusUnauthorized:
		return protocol.ErrorCodeUnauthorized
	case http.StatusForbidden:
		return protocol.ErrorCodeForbidden
	case http.StatusNotFound:
		return protocol.ErrorCodeNotFound
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusUnsupportedMediaType:
		return protocol.ErrorCodeInvalid
	case http.StatusRequestEntityTooLarge:
		return protocol.ErrorCodeTooLarge
	case http.StatusTooManyRequests:
		return protocol.ErrorCodeRateLimited
	case http.StatusConflict:
		return protocol.ErrorCodeConflict
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return protocol.ErrorCodeTimeout
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return protocol.ErrorCodeUnavailable
	}
	return protocol.ErrorCodeInternal
}
