package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeStopsOnSignal runs the real binary: `pizzapi serve` with no other setup starts a
// complete node, and SIGTERM (and SIGINT) stop it cleanly: exit status 0 after every step of the
// shutdown, in order. It used to require the exit within 3 s, which a loaded CI machine missed;
// the time is logged, and only a hang guard bounds it.
func TestServeStopsOnSignal(t *testing.T) {
	bin := binary(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			home := t.TempDir()
			cmd := exec.Command(bin, "serve", "--port", "0", "--log-level", "debug")
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
			var rest []string
			drained := make(chan struct{})
			go func() {
				defer close(drained)
				for sc.Scan() {
					rest = append(rest, sc.Text())
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
				<-drained
				if err != nil {
					t.Fatalf("exit: %v\n%s", err, strings.Join(rest, "\n"))
				}
				t.Logf("stopped %v after the signal", time.Since(start))
			case <-time.After(60 * time.Second): // a hang guard, not a performance limit
				_ = cmd.Process.Signal(syscall.SIGABRT) // a goroutine dump for the log
				select {
				case <-done:
				case <-time.After(10 * time.Second):
				}
				<-drained
				t.Fatalf("the server did not stop; log:\n%s", strings.Join(rest, "\n"))
			}
			wantSteps(t, rest, "shutting down", "step=socket.io", "step=http", `step="background loops"`,
				`step="relay core and bus"`, "step=store", "relay node stopped")
		})
	}
}

// wantSteps checks that the log lines contain each of steps, in that order.
func wantSteps(t *testing.T, lines []string, steps ...string) {
	t.Helper()
	i := 0
	for _, l := range lines {
		if i < len(steps) && strings.Contains(l, steps[i]) {
			i++
		}
	}
	if i < len(steps) {
		t.Errorf("shutdown step %q missing or out of order in the log:\n%s", steps[i], strings.Join(lines, "\n"))
	}
}
