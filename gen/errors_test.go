package gen

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pizzapi/pizzapi/protocol"
)

// TestCodedErrors checks the generated error runtime of the real contract: every error with a
// code matches that code's sentinel and no other, wrapping keeps the code, and CodeOf finds it.
func TestCodedErrors(t *testing.T) {
	cause := errors.New("disk full")
	err := fmt.Errorf("saving: %w", protocol.Errorf(protocol.ErrorCodeUnavailable, "Cannot save now: %w", cause))
	if !errors.Is(err, protocol.ErrUnavailable) || errors.Is(err, protocol.ErrInternal) {
		t.Errorf("errors.Is does not follow the code of %v", err)
	}
	if !errors.Is(err, cause) {
		t.Error("the cause is lost")
	}
	if got := protocol.CodeOf(err); got != protocol.ErrorCodeUnavailable {
		t.Errorf("CodeOf = %q, want unavailable", got)
	}
	if got := err.Error(); got != "saving: Cannot save now: disk full" {
		t.Errorf("message = %q", got)
	}
	if got := protocol.CodeOf(cause); got != "" {
		t.Errorf("CodeOf of an uncoded error = %q, want none", got)
	}
	if got := protocol.ErrNotFound.Error(); got != "not_found" {
		t.Errorf("a sentinel says %q, want its code", got)
	}
	e := protocol.NewError(protocol.ErrorCodeSessionNotFound, "Session not found")
	if !errors.Is(e, protocol.ErrSessionNotFound) || errors.Is(e, protocol.ErrNotFound) {
		t.Error("a relay code matches the wrong sentinel")
	}
	if errors.Is(protocol.NewError(protocol.ErrorCodeSessionNotFound, "Session ended"), e) {
		t.Error("two errors with a message match because their codes do")
	}
}

// TestRefusedAck checks that an ErrorMessage in place of an acknowledgement is read as the error
// it carries, and that anything else is not.
func TestRefusedAck(t *testing.T) {
	err := protocol.RefusedAck([]byte(`{"code":"forbidden","message":"session id s1 belongs to another user","event":"register"}`))
	if !errors.Is(err, protocol.ErrForbidden) || err.Message != "session id s1 belongs to another user" {
		t.Errorf("refusal read as %#v", err)
	}
	for _, raw := range []string{`{"ok":false,"code":"collab_disabled","error":"Collab mode is off"}`, `{"code":"no_such_code","message":"x"}`, `{"message":"x"}`, `null`, `not json`} {
		if err := protocol.RefusedAck([]byte(raw)); err != nil {
			t.Errorf("%s read as a refusal: %v", raw, err)
		}
	}
}
