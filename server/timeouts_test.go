package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server"
	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestIdleAndSlowConnectionsAreClosed is item 2 on a whole node: an idle keep-alive connection
// and a request body sent a byte at a time are both closed by the server (they were kept open 75 s
// and indefinitely).
func TestIdleAndSlowConnectionsAreClosed(t *testing.T) {
	n := servertest.Start(t, func(c *config.Config) {
		c.HTTPIdleTimeout = 300 * time.Millisecond
		c.HTTPBodyTimeout = 300 * time.Millisecond
	})
	addr := strings.TrimPrefix(n.URL, "http://")
	guard := 20 * time.Second // a hang guard, far above the 300 ms limits

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /health HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	_ = idle.SetReadDeadline(time.Now().Add(guard))
	if _, err := br.ReadByte(); err == nil || isTimeout(err) {
		t.Fatalf("the idle keep-alive connection was not closed by the server: %v", err)
	}

	trickle(t, addr, "POST /api/auth/sign-in/email HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", guard)
}

// trickle sends a request's head and then its body a byte every 50 ms, and checks that the server
// cuts it off with 408 or by closing the connection before guard passes.
func trickle(t *testing.T, addr, head string, guard time.Duration) {
	t.Helper()
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, head); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if _, err := slow.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	_ = slow.SetReadDeadline(time.Now().Add(guard))
	line, err := bufio.NewReader(slow).ReadString('\n')
	if isTimeout(err) {
		t.Fatalf("a body trickled a byte at a time still holds its connection (%.40q)", head)
	}
	if line != "" && !strings.Contains(line, "408") {
		t.Errorf("trickled body answered %q, want 408 or a closed connection (%.40q)", line, head)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestShutdownBeforeServe is item 10's cause: `pizzapi serve` starts Serve in a goroutine, and on
// a loaded machine a SIGTERM could be handled before that goroutine ran. Shutdown then skipped
// HTTP, and Serve, running after it, served forever. Serve after Shutdown returns at once.
func TestShutdownBeforeServe(t *testing.T) {
	cfg := config.Default()
	cfg.Host, cfg.Port, cfg.DataDir = "127.0.0.1", 0, t.TempDir()
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(t.Context(), cfg, servertest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after Shutdown: %v", err)
		}
	case <-time.After(30 * time.Second): // a hang guard
		t.Fatal("Serve after Shutdown did not return: the node would never exit")
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("the listener still accepts connections")
	}
}

// TestSlowPollingBodyIsClosed: a long-polling body sent a byte at a time is cut off like a REST
// body (it held its connection and a goroutine for as long as the client went on), with 408 or a
// closed connection; the session it was sent on is closed.
func TestSlowPollingBodyIsClosed(t *testing.T) {
	n := servertest.Start(t, func(c *config.Config) { c.HTTPBodyTimeout = 300 * time.Millisecond })
	addr := strings.TrimPrefix(n.URL, "http://")
	guard := 20 * time.Second // a hang guard, far above the 300 ms limit

	resp, err := http.Get(n.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	var open [512]byte
	m, _ := resp.Body.Read(open[:])
	_ = resp.Body.Close()
	parts := strings.SplitN(string(open[:m]), `"sid":"`, 2)
	if len(parts) != 2 {
		t.Fatalf("open packet %q", open[:m])
	}
	sid := strings.SplitN(parts[1], `"`, 2)[0]

	trickle(t, addr, "POST /socket.io/?EIO=4&transport=polling&sid="+sid+" HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: text/plain\r\nContent-Length: 10000\r\n\r\n4", guard)
}
