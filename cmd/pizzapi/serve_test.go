package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// TestServeStopsOnSignal runs the real binary: `pizzapi serve` with no other setup starts a
// complete node, and SIGTERM (and SIGINT) stop it cleanly within 2 s.
func TestServeStopsOnSignal(t *testing.T) {
	bin := binary(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			home := t.TempDir()
			cmd := exec.Command(bin, "serve", "--port", "0")
			cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME=")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			url := regexp.MustCompile(`listening on (http://\S+)`)
			sc := bufio.NewScanner(stderr)
			started := false
			for sc.Scan() {
				if url.MatchString(sc.Text()) {
					started = true
					break
				}
			}
			if !started {
				t.Fatal("the server did not print its URL")
			}
			go func() {
				for sc.Scan() {
				}
			}()
			if _, err := os.Stat(filepath.Join(home, ".local/share/pizzapi/pizzapi.db")); err != nil {
				t.Fatalf("no SQLite database in the default data directory: %v", err)
			}
			start := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit: %v", err)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Fatalf("took %v to stop", d)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("the server did not stop within 3 s")
			}
		})
	}
}
