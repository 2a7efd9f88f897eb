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
