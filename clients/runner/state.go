package runner

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/clients/settings"
)

// State is the runner's persistent identity, kept in its state file (~/.pizzapi/runner.json).
type State struct {
	// RunnerID is the runner's id (a UUID), the same across restarts.
	RunnerID string `json:"runnerId"`
	// RunnerSecret proves to the relay that this runner owns RunnerID (32 random bytes, hex).
	RunnerSecret string `json:"runnerSecret"`
}

// LockedError reports that another daemon holds the state file's lock.
type LockedError struct {
	// Path is the state file.
	Path string
	// PID is the process holding the lock, 0 when unknown.
	PID int
}

// Error says who holds the lock and what to do about it.
func (e *LockedError) Error() string {
	who := "another runner daemon"
	if e.PID > 0 {
		who += " (pid " + strconv.Itoa(e.PID) + ")"
	}
	return who + " is already running with " + e.Path + "; stop it first, or give this one its own state file with PIZZAPI_RUNNER_STATE_PATH"
}

// lockState takes the exclusive lock of the state file at path: an flock on path+".lock", which
// the kernel releases when the process ends, so a crashed daemon leaves no stale lock. The lock
// file records the holder's pid for the error message of the next daemon.
func lockState(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		data, _ := os.ReadFile(path + ".lock")
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Path: path, PID: pid}
		}
		return nil, fmt.Errorf("locking %s.lock: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// loadState reads the state file, creating it (mode 0600) with a fresh identity when it is missing
// or incomplete. A file that cannot be parsed is an error rather than silently replaced, since
// replacing it would change the runner's identity.
func loadState(path string) (State, error) {
	var s State
	if err := settings.ReadJSON(path, &s); errors.Is(err, settings.ErrInvalidJSON) {
		return s, fmt.Errorf("%w (move it away to get a new runner identity)", err)
	} else if err != nil {
		return s, err
	}
	changed := false
	if _, err := uuid.Parse(s.RunnerID); err != nil {
		s.RunnerID, changed = uuid.NewString(), true
	}
	if b, err := hex.DecodeString(s.RunnerSecret); err != nil || len(b) != 32 {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return s, err
		}
		s.RunnerSecret, changed = hex.EncodeToString(secret), true
	}
	if changed {
		return s, saveState(path, s)
	}
	return s, os.Chmod(path, 0o600)
}

// saveState writes the state file atomically with mode 0600, keeping fields it does not know.
func saveState(path string, s State) error {
	return settings.WriteFields(path, map[string]any{"runnerId": s.RunnerID, "runnerSecret": s.RunnerSecret})
}
