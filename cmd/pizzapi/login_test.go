package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestLogin runs `pizzapi login` against a real relay: it saves the key (mode 0600), a wrong
// password and an unreachable relay fail with one line and exit 1.
func TestLogin(t *testing.T) {
	bin := binary(t)
	n := servertest.Start(t)
	home := t.TempDir()
	run := func(stdin string, args ...string) (string, int) {
		cmd := exec.Command(bin, append([]string{"login"}, args...)...)
		cmd.Env = append(os.Environ(), "PIZZAPI_HOME="+home, "PIZZAPI_RELAY_URL=", "PIZZAPI_API_KEY=")
		cmd.Stdin = strings.NewReader(stdin)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	out, code := run("correct horse battery\n", "--server", n.URL, "--email", "ada@example.com", "--password-stdin")
	if code != 0 {
		t.Fatalf("login: %d %s", code, out)
	}
	path := filepath.Join(home, "config.json")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v %v", fi, err)
	}
	var cfg struct{ RelayURL, APIKey string }
	data, _ := os.ReadFile(path)
	if json.Unmarshal(data, &cfg) != nil || cfg.RelayURL != n.URL || !strings.HasPrefix(cfg.APIKey, "pzp_") {
		t.Fatalf("config %s", data)
	}
	if _, err := n.Server.Accounts().ByAPIKey(t.Context(), cfg.APIKey); err != nil {
		t.Fatalf("saved key does not work: %v", err)
	}
	// Email and password asked on standard input.
	if out, code := run("ada@example.com\ncorrect horse battery\n", "--server", n.URL); code != 0 {
		t.Fatalf("prompted login: %d %s", code, out)
	}
	out, code = run("wrong password\n", "--server", n.URL, "--email", "ada@example.com")
	if code != 1 || strings.Count(strings.TrimSpace(out), "\n") != 0 || !strings.Contains(out, "Invalid email or password") {
		t.Fatalf("wrong password: %d %q", code, out)
	}
	out, code = run("x\n", "--server", "http://127.0.0.1:1", "--email", "a@b.c")
	if code != 1 || strings.Count(strings.TrimSpace(out), "\n") != 0 || !strings.Contains(out, "cannot reach the relay") {
		t.Fatalf("unreachable: %d %q", code, out)
	}
}
