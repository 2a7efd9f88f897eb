//go:build unix

package web_test

// The web viewer end to end in a real browser: this test builds the pizzapi binary, starts
// `pizzapi serve` on a free port with a fresh data directory, and runs ts/web/e2e/e2e.mjs, which
// drives Debian's Chromium with playwright-core and starts `pizzapi share --demo` and
// `pizzapi runner` against the relay. Screenshots and logs land in .artifacts/e2e (git-ignored).

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	defaultChromium = "/usr/bin/chromium"
	e2eTimeout      = 12 * time.Minute
)

func TestBrowserEndToEnd(t *testing.T) {
	chromium := os.Getenv("PIZZAPI_CHROMIUM")
	if chromium == "" {
		chromium = defaultChromium
	}
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("PIZZAPI_TEST_REQUIRE_BROWSER") == "1" {
			t.Fatalf("Chromium is required (PIZZAPI_TEST_REQUIRE_BROWSER=1) but %s is missing: %v", chromium, err)
		}
		t.Skipf("skipping the browser tests: no Chromium at %s (install it with `apt-get install chromium`; CI sets PIZZAPI_TEST_REQUIRE_BROWSER=1)", chromium)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(root, "ts", "web")
	node := npmInstalled(t, web, "playwright-core", "axe-core")

	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	work := t.TempDir()
	bin := filepath.Join(work, "pizzapi")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/pizzapi")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/pizzapi: %v\n%s", err, out)
	}

	out := filepath.Join(root, ".artifacts", "e2e")
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	url := startRelay(ctx, t, bin, work, filepath.Join(out, "serve.log"))

	script := exec.CommandContext(ctx, node, filepath.Join(web, "e2e", "e2e.mjs"))
	script.Dir = web
	script.Env = append(os.Environ(),
		"PIZZAPI_URL="+url,
		"PIZZAPI_BIN="+bin,
		"PIZZAPI_CHROMIUM="+chromium,
		"PIZZAPI_E2E_OUT="+out,
		"PIZZAPI_E2E_WORK="+filepath.Join(work, "e2e"),
	)
	// The script starts the browser, the agent and the runner: on timeout, stop them all.
	script.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	script.Cancel = func() error { return syscall.Kill(-script.Process.Pid, syscall.SIGKILL) }
	output, err := script.CombinedOutput()
	t.Logf("e2e.mjs:\n%s", output)
	if err != nil {
		t.Fatalf("the browser test failed (%v); screenshots and logs are in %s", err, out)
	}
	t.Logf("screenshots in %s", filepath.Join(out, "screenshots"))
}

// npmInstalled returns the node binary, after installing dir's npm packages with `npm ci` when a
// package named in want is missing.
func npmInstalled(t *testing.T, dir string, want ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the browser tests need Node.js 20 and npm: %v", err)
	}
	missing := false
	for _, w := range want {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", w, "package.json")); err != nil {
			missing = true
		}
	}
	if !missing {
		return node
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	return node
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startRelay runs `pizzapi serve` on a free port until the test ends and returns its URL.
func startRelay(ctx context.Context, t *testing.T, bin, work, logPath string) string {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	// The browser's push subscription points at a push service the script runs on loopback.
	cmd := exec.CommandContext(ctx, bin, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", filepath.Join(work, "data"),
		"--push-allow-endpoint", "http://127.0.0.1:")
	cmd.Env = append(os.Environ(), "HOME="+work)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			_, _ = io.WriteString(logFile, line+"\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case url := <-found:
		return strings.TrimRight(url, "/")
	case <-time.After(30 * time.Second):
		t.Fatalf("pizzapi serve did not say where it listens within 30 s; see %s", logPath)
	case <-ctx.Done():
		t.Fatal(errors.New("timed out starting pizzapi serve"))
	}
	return ""
}
