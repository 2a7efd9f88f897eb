// Package pitest runs the real pi coding agent (npm @mariozechner/pi-coding-agent) in tests: it
// installs the pinned version once into a cache directory shared by test processes, and writes a
// pi configuration whose only provider is a fake model server.
//
// Where npm cannot install pi the tests skip, saying why, unless PIZZAPI_TEST_REQUIRE_PI=1 (set in
// CI), which makes them fail instead.
package pitest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Version is the pi release the tests run.
const Version = "0.73.1"

// Package is pi's npm package.
const Package = "@mariozechner/pi-coding-agent"

// Provider is the name of the fake provider in the configuration Config writes.
const Provider = "fake"

// The models Config configures: a reasoning model (every thinking level but xhigh) and one that
// does not think at all.
const (
	ThinkingModel = "fake-think"
	PlainModel    = "fake-plain"
)

// CacheDir is where pi is installed: $PIZZAPI_PI_CACHE, or pizzapi-test/pi-VERSION in the user's
// cache directory.
func CacheDir() (string, error) {
	if dir := os.Getenv("PIZZAPI_PI_CACHE"); dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "pizzapi-test", "pi-"+Version), nil
}

// Install makes sure pi is installed and returns the path of its command-line script (run it with
// node). Concurrent test processes wait for each other on a lock file.
func Install(t testing.TB) string {
	t.Helper()
	cli, err := install()
	if err != nil {
		if os.Getenv("PIZZAPI_TEST_REQUIRE_PI") == "1" {
			t.Fatalf("the real pi agent is required (PIZZAPI_TEST_REQUIRE_PI=1): %v", err)
		}
		t.Skipf("skipping: the real pi agent %s@%s could not be installed from npm (set PIZZAPI_TEST_REQUIRE_PI=1 to fail instead): %v", Package, Version, err)
	}
	return cli
}

func install() (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cli := filepath.Join(dir, "node_modules", "@mariozechner", "pi-coding-agent", "dist", "cli.js")
	done := filepath.Join(dir, "installed")
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking %s: %w", dir, err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if _, err := os.Stat(done); err == nil {
		return cli, nil
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("node is not installed: %w", err)
	}
	cmd := exec.Command("npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "--no-save", Package+"@"+Version)
	cmd.Env = append(os.Environ(), "npm_config_fetch_timeout=60000", "npm_config_fetch_retries=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm install (%v): %v\n%s", time.Since(start).Round(time.Second), err, out)
	}
	if _, err := os.Stat(cli); err != nil {
		return "", fmt.Errorf("npm installed pi without %s", cli)
	}
	if err := os.WriteFile(done, []byte(Version+"\n"), 0o644); err != nil {
		return "", err
	}
	return cli, nil
}

// Agent is a pi configuration for one test.
type Agent struct {
	// Dir is pi's agent directory (PI_CODING_AGENT_DIR): models.json, settings and sessions.
	Dir string
	// Argv runs pi in RPC mode on ThinkingModel; append more arguments as needed.
	Argv []string
	// Env is the environment pi runs with.
	Env []string
}

// Config installs pi and writes an agent directory whose provider Provider is the OpenAI-compatible
// server at modelURL.
func Config(t testing.TB, modelURL string) Agent {
	t.Helper()
	cli := Install(t)
	dir := t.TempDir()
	models := map[string]any{"providers": map[string]any{Provider: map[string]any{
		"baseUrl": modelURL,
		"api":     "openai-completions",
		"apiKey":  "fake-key",
		"compat":  map[string]any{"supportsDeveloperRole": false},
		"models": []any{
			map[string]any{"id": ThinkingModel, "name": "Fake Thinking", "reasoning": true, "contextWindow": 100000},
			map[string]any{"id": PlainModel, "name": "Fake Plain", "reasoning": false, "contextWindow": 50000},
		},
	}}}
	b, _ := json.MarshalIndent(models, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "models.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"PI_CODING_AGENT_DIR="+dir,
		"PI_OFFLINE=1",
		"PI_SKIP_VERSION_CHECK=1",
		"PI_TELEMETRY=0",
	)
	return Agent{
		Dir:  dir,
		Argv: []string{"node", cli, "--mode", "rpc", "--provider", Provider, "--model", ThinkingModel},
		Env:  env,
	}
}
