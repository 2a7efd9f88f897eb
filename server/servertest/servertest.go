// Package servertest starts real relay nodes for tests and connects real Socket.IO clients to
// them: a node listens on a free loopback port with its own data directory, users are created
// through the account service, and Conn records what a client receives.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/pgtest"
	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/server"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/config"
)

// Node is a running relay node.
type Node struct {
	URL    string
	Config config.Config
	Server *server.Server
	errc   chan error
}

// Start runs a node on a free loopback port; mods adjust its configuration. The node is shut
// down when the test ends. A cluster node (with a Redis URL) is waited for until it is ready.
func Start(t testing.TB, mods ...func(*config.Config)) *Node {
	t.Helper()
	n := StartNotReady(t, mods...)
	if n.Config.RedisURL != "" {
		n.WaitReady(t)
	}
	return n
}

// StartNotReady runs a node without waiting for it to reach Redis.
func StartNotReady(t testing.TB, mods ...func(*config.Config)) *Node {
	t.Helper()
	return StartLogged(t, Logger(), mods...)
}

// StartLogged runs a single node that logs to log (a test that checks what the node logs), without
// waiting for Redis.
func StartLogged(t testing.TB, log *slog.Logger, mods ...func(*config.Config)) *Node {
	t.Helper()
	cfg := config.Default()
	cfg.Host = "127.0.0.1"
	cfg.Port = 0
	cfg.DataDir = t.TempDir()
	for _, m := range mods {
		m(&cfg)
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	srv, err := server.New(context.Background(), cfg, log)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n := &Node{URL: cfg.BaseURL, Config: cfg, Server: srv, errc: make(chan error, 1)}
	go func() { n.errc <- srv.Serve(ln) }()
	t.Cleanup(func() { n.Stop(t) })
	return n
}

// WaitReady waits until a cluster node has reached Redis and serves clients.
func (n *Node) WaitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !n.Server.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("the node did not become ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StartCluster runs count nodes that share a fresh Redis and a fresh PostgreSQL database (each
// node keeps its own data directory for attachments).
func StartCluster(t testing.TB, count int, mods ...func(*config.Config)) []*Node {
	t.Helper()
	return StartClusterOn(t, redistest.StartServer(t), count, mods...)
}

// StartClusterOn is StartCluster on a given Redis server (one the test can stop and restart).
func StartClusterOn(t testing.TB, rds *redistest.Server, count int, mods ...func(*config.Config)) []*Node {
	t.Helper()
	redisURL := "redis://" + rds.Addr
	dbURL := pgtest.Database(t)
	nodes := make([]*Node, count)
	for i := range nodes {
		nodes[i] = Start(t, append([]func(*config.Config){func(c *config.Config) {
			c.RedisURL = redisURL
			c.DatabaseURL = dbURL
		}}, mods...)...)
	}
	return nodes
}

// Stop shuts the node down (once) and checks that it stopped cleanly.
func (n *Node) Stop(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Server.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	select {
	case err := <-n.errc:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
		n.errc <- nil
	case <-time.After(time.Second): // Serve returns as soon as Shutdown has closed HTTP
		t.Error("server did not stop")
	}
}

// Logger returns the logger test nodes use: quiet unless PIZZAPI_TEST_LOG is set (to a level).
func Logger() *slog.Logger {
	level := os.Getenv("PIZZAPI_TEST_LOG")
	if level == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// User is an account created for a test, with its credentials.
type User struct {
	ID       string
	Name     string
	Email    string
	Password string
	APIKey   string
	Cookie   *http.Cookie
}

var userSeq atomic.Int64

// NewUser creates an account with an API key and a browser session.
func (n *Node) NewUser(t testing.TB) User {
	t.Helper()
	ctx := context.Background()
	i := userSeq.Add(1)
	u := User{Name: "user" + strconv.FormatInt(i, 10), Password: "correct horse battery"}
	u.Email = u.Name + "@example.com"
	acc, err := n.Server.Accounts().SignUp(ctx, u.Name, u.Email, u.Password)
	if err != nil {
		t.Fatal(err)
	}
	u.ID = acc.ID
	if u.APIKey, err = n.Server.Accounts().NewAPIKey(ctx, acc.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if u.Cookie, err = n.Server.Accounts().NewSession(ctx, acc.ID, false); err != nil {
		t.Fatal(err)
	}
	return u
}

// CookieHeader returns a Cookie header carrying the user's browser session.
func (u User) CookieHeader() http.Header {
	return http.Header{"Cookie": {accounts.CookieName + "=" + u.Cookie.Value}}
}
