// Package redistest starts throwaway redis-server processes for tests.
//
// A test calls Start and gets the address of a fresh, empty server of its own that listens on a
// free loopback port, keeps nothing on disk and is killed when the test ends. When redis-server is
// not on PATH the test is skipped, unless PIZZAPI_TEST_REQUIRE_REDIS=1 (as CI sets it), in which
// case it fails.
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a missing redis-server into a failure.
const RequireEnv = "PIZZAPI_TEST_REQUIRE_REDIS"

// Start runs a new redis-server for the test and returns its address (127.0.0.1:port).
func Start(t testing.TB) string {
	t.Helper()
	return StartServer(t).Addr
}

// Server is a redis-server a test can stop and start again on the same port (an outage).
type Server struct {
	Addr string
	t    testing.TB
	bin  string
	port int
	stop func()
}

// StartServer runs a new redis-server for the test.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin := binary(t)
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s := &Server{t: t, bin: bin, port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
		if lastErr = s.launch(); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
		// Most likely the free port was taken in between: try another.
	}
	t.Fatalf("starting redis-server: %v", lastErr)
	return nil
}

// Reserve returns an address nothing listens on yet, where StartAt can start a server later.
func Reserve(t testing.TB) *Server {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: binary(t), port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	// Registered now, not at Start: what the test starts afterwards (nodes using this server) is
	// then stopped first, while the server still runs.
	t.Cleanup(s.Stop)
	return s
}

// Stop kills the server (its data is lost).
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

// Start starts the server again on its port, empty.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.launch(); err != nil {
		s.t.Fatalf("starting redis-server on %s: %v", s.Addr, err)
	}
}

func binary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("redis-server is not on PATH and %s=1", RequireEnv)
		}
		t.Skipf("redis-server is not on PATH (install the redis-server package, or set %s=1 to make this a failure)", RequireEnv)
	}
	return bin
}

func (s *Server) launch() error {
	stop, err := start(s.t, s.bin, s.port)
	if err != nil {
		return err
	}
	s.stop = stop
	return nil
}

// start runs redis-server on port and returns the function that kills it.
func start(t testing.TB, bin string, port int) (func(), error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	dir := t.TempDir()
	var out bytes.Buffer
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--protected-mode", "yes", "--loglevel", "warning")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if pid, err := serverPID(addr); err == nil {
			if pid == cmd.Process.Pid {
				break
			}
			// Another server took the port first; ours will fail to bind and exit.
		}
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("redis-server exited (%v): %s", err, strings.TrimSpace(out.String()))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("redis-server did not answer on %s: %s", addr, strings.TrimSpace(out.String()))
		}
	}
	return stop, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serverPID asks the server at addr for its process id (INFO server), so that Start knows the
// server answering is the one it started.
func serverPID(addr string) (int, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("INFO server\r\n")); err != nil {
		return 0, err
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(head, "$") {
		return 0, fmt.Errorf("unexpected reply %q", head)
	}
	n, err := strconv.Atoi(strings.TrimSpace(head[1:]))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("unexpected reply %q", head)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, fmt.Errorf("no process_id in INFO server")
}
