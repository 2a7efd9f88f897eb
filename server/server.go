// Package server assembles a relay node: the durable store, live state and message bus, the relay
// core, the Socket.IO namespaces, the REST API, health and metrics endpoints, and the maintenance
// loop, all on one HTTP port.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/pizzapi/pizzapi/internal/sioparser"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/legacy"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/metrics"
	"github.com/pizzapi/pizzapi/server/push"
	"github.com/pizzapi/pizzapi/server/redisgate"
	"github.com/pizzapi/pizzapi/server/sio"
	"github.com/pizzapi/pizzapi/server/store"
	"github.com/pizzapi/pizzapi/server/store/sqlstore"
	"github.com/pizzapi/pizzapi/server/wstransport"
)

// Server is one relay node.
type Server struct {
	cfg      config.Config
	log      *slog.Logger
	db       durableStore
	live     live.Store
	bus      bus.Bus
	core     *core.Core
	accounts *accounts.Accounts
	metrics  *metrics.Metrics
	push     *push.Service // nil when Web Push is disabled
	io       *socket.Server
	legacy   *legacy.Handler
	limits   *wstransport.Limits // incoming message sizes, raised by authentication
	http     *http.Server
	handler  http.Handler
	app      atomic.Pointer[http.Handler] // Socket.IO, REST and the web app, once ready
	cluster  *cluster                     // nil for a single node
	// downloadKey signs attachment download tokens: random per process, or shared through Redis
	// by the nodes of a cluster.
	downloadKey []byte

	ready     atomic.Bool
	closing   atomic.Bool
	lifecycle sync.Mutex         // orders Serve's start against Shutdown
	stop      context.CancelFunc // ends the background loops
	loops     sync.WaitGroup
	closeOnce sync.Once
}

// New opens the stores and builds the node; Serve starts it.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	s := &Server{cfg: cfg, log: log, metrics: metrics.New(knownEvent), downloadKey: []byte(auth.NewToken(32))}
	var err error
	if s.db, err = openStore(ctx, cfg); err != nil {
		return nil, err
	}
	s.accounts = accounts.New(s.db, cfg.DisableSignup)
	s.handler = s.routes()
	// Only the headers have a server-wide read deadline: the Socket.IO endpoints keep their
	// connections open, so the REST API sets the deadlines of each request's body and answer
	// itself (server/api). Idle keep-alive connections are closed after HTTPIdleTimeout.
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       s.cfg.HTTPIdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
	if cfg.RedisURL != "" {
		if s.cluster, err = newCluster(cfg, log); err != nil {
			s.db.Close()
			return nil, err
		}
	}
	if s.push, err = s.newPush(ctx); err != nil {
		if s.cluster != nil {
			s.cluster.close()
		}
		s.db.Close()
		return nil, err
	}
	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	if s.cluster == nil {
		s.start(live.NewMemory(cfg.EventBufferSize), bus.NewLocal(), uuid.NewString())
		return s, nil
	}
	// Serve /health (not ready) while Redis is being reached; everything else waits for it.
	s.loops.Add(1)
	go func() {
		defer s.loops.Done()
		ls, b, err := s.cluster.connect(bg, storeIdentity(cfg))
		if err != nil {
			if bg.Err() == nil {
				log.Error("cannot join the cluster", "error", err)
			}
			return
		}
		if key, err := s.cluster.sharedSecret(bg, "download-token"); err == nil {
			s.downloadKey = key
		} else {
			log.Warn("no shared download-token key: download tokens work only on the node that issued them", "error", err)
		}
		s.start(ls, b, s.cluster.node)
	}()
	return s, nil
}

// start builds the relay on its live state and bus and opens the node for clients.
func (s *Server) start(ls live.Store, b bus.Bus, node string) {
	s.live, s.bus = ls, b
	s.core = core.New(core.Options{
		NodeID:         node,
		BaseURL:        s.cfg.BaseURL,
		EphemeralTTL:   s.cfg.EphemeralTTL,
		ReconnectGrace: s.cfg.ReconnectGrace,
		SpawnWait:      5 * time.Second,
		RequestTimeout: 15 * time.Second,
		TerminalBuffer: 2000,
		Logger:         s.log,
	}, s.live, s.db, s.bus, s.notifier(), s.metrics)
	s.io = s.newSocketServer()
	s.mountNamespaces(sio.NewMounter(s.io, s.socketOptions()))
	s.legacy = s.newLegacy()
	s.mountNamespaces(s.legacy)
	app := s.appRoutes()
	s.app.Store(&app)
	sio.LogRefusedPackets(s.io.Engine(), s.log, s.metrics) // the routes created the engine
	s.ready.Store(true)
	s.log.Info("relay node ready", "node", node, "cluster", s.cluster != nil)
}

// Ready reports whether the node serves clients (a cluster node waits for Redis first).
func (s *Server) Ready() bool { return s.ready.Load() }

// durableStore is what both stores implement: the relay's records and the Web Push data.
type durableStore interface {
	store.Store
	store.PushStore
}

// openStore opens PostgreSQL when a database URL is configured, the SQLite file otherwise.
func openStore(ctx context.Context, cfg config.Config) (durableStore, error) {
	if cfg.DatabaseURL != "" {
		db, err := sqlstore.OpenPostgres(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("opening PostgreSQL: %w", err)
		}
		return db, nil
	}
	path := filepath.Join(cfg.DataDir, "pizzapi.db")
	db, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return db, nil
}

// recoveryWindow is how long a disconnected Socket.IO session can be recovered.
const recoveryWindow = 2 * time.Minute

// The Engine.IO heartbeat: a ping every pingInterval, answered within pingTimeout. A poll waits
// at most pingInterval for something to send, and its answer must be written within
// pollWriteTimeout after that.
const (
	pingInterval     = 25 * time.Second
	pingTimeout      = 20 * time.Second
	pollWriteTimeout = 30 * time.Second
)

// newSocketServer configures the Socket.IO server: polling and the relay's websocket transport,
// the raw-JSON parser, the message size limits, CORS for the browser origins, and refusal of new
// connections while closing.
func (s *Server) newSocketServer() *socket.Server {
	o := socket.DefaultServerOptions()
	// A connection may send only small messages until one of its sockets authenticates
	// (sio.Options.MessageBytes); this is also the polling transport's limit until then.
	s.limits = wstransport.NewLimits(int64(s.cfg.UnauthenticatedMessageBytes), s.cfg.LargeMessageBudget, 10*time.Second)
	o.SetTransports(types.NewSet[transports.TransportCtor](socket.Polling, wstransport.NewBuilder(wstransport.Options{
		Limits:       s.limits,
		WriteTimeout: 10 * time.Second,
		Logger:       s.log,
	})))
	o.SetParser(sioparser.New(sioparser.Options{Route: true}))
	o.SetPingInterval(pingInterval)
	o.SetPingTimeout(pingTimeout)
	o.SetMaxHttpBufferSize(int64(s.cfg.UnauthenticatedMessageBytes))
	o.SetCors(&types.Cors{Origin: s.cfg.Origins(), Credentials: true})
	// Connection State Recovery: a client back within two minutes keeps its socket id, on any node
	// of a cluster (the sessions are kept in Redis by the streams adapter). The relay's own
	// recovery (viewer lastSeq replay, CLI resume) does the rest.
	csr := &socket.ConnectionStateRecovery{}
	csr.SetMaxDisconnectionDuration(int64(recoveryWindow / time.Millisecond))
	csr.SetSkipMiddlewares(true)
	o.SetConnectionStateRecovery(csr)
	if s.cluster != nil {
		o.SetAdapter(s.cluster.adapter())
	}
	o.SetAllowRequest(func(*types.HttpContext) error {
		if s.closing.Load() {
			return errors.New("server shutting down")
		}
		return nil
	})
	return socket.NewServer(nil, o)
}

// Handler returns the node's HTTP handler (Socket.IO, REST, health, metrics).
func (s *Server) Handler() http.Handler { return s.handler }

// Core returns the relay core (for tests and the benchmark).
func (s *Server) Core() *core.Core { return s.core }

// Push returns the Web Push service (nil when disabled), for tests.
func (s *Server) Push() *push.Service { return s.push }

// Accounts returns the account service.
func (s *Server) Accounts() *accounts.Accounts { return s.accounts }

// Serve accepts connections on ln until Shutdown; it returns nil after a clean shutdown, also
// when Shutdown came first (a signal can arrive before the goroutine that calls Serve runs: on a
// loaded machine it did, and Serve then served forever after the shutdown had skipped HTTP).
func (s *Server) Serve(ln net.Listener) error {
	s.lifecycle.Lock()
	if s.closing.Load() {
		s.lifecycle.Unlock()
		_ = ln.Close()
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	prev := s.stop
	s.stop = func() { cancel(); prev() }
	s.loops.Add(1)
	go s.maintain(ctx)
	s.lifecycle.Unlock()
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the node gracefully: new connections are refused, Socket.IO is closed first
// (clients see a transport close and reconnect elsewhere), then HTTP, then the maintenance loop,
// the core and the stores. When ctx ends first (Redis does not answer, say), the Redis client is
// closed so that what still waits for it fails at once and the shutdown completes. Each step is
// logged at debug level with how long it took.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		start := time.Now()
		step := func(name string) {
			s.log.Debug("shutdown step done", "step", name, "elapsed", time.Since(start))
		}
		s.lifecycle.Lock()
		s.closing.Store(true)
		stop := s.stop
		s.lifecycle.Unlock()
		if s.cluster != nil {
			if s.cluster.gate.Down() {
				// Nothing Redis would be asked on the way out (the adapter's and the bus's
				// clean-up) can succeed: fail it at once rather than when ctx ends.
				s.log.Info("shutting down without cleaning up the records in Redis, which is unreachable (they expire)")
				s.cluster.close()
			}
			defer context.AfterFunc(ctx, s.cluster.close)()
		}
		stop()
		if s.ready.Load() {
			done := make(chan struct{})
			s.io.Close(func(error) { close(done) })
			select {
			case <-done:
			case <-ctx.Done():
			}
			step("socket.io")
			s.legacy.Close(ctx)
			step("legacy websockets")
		}
		// Closes the listener and waits for the requests in progress; a Serve called after this
		// returns at once.
		err = s.http.Shutdown(ctx)
		step("http")
		s.loops.Wait()
		step("background loops")
		if s.ready.Load() {
			s.core.Close()
		}
		if s.push != nil {
			s.push.Close()
		}
		if s.ready.Load() {
			if cerr := s.bus.Close(); cerr != nil && err == nil {
				err = cerr
			}
			step("relay core and bus")
		}
		if s.cluster != nil {
			s.cluster.close()
		}
		if cerr := s.db.Close(); cerr != nil && err == nil {
			err = cerr
		}
		step("store")
		s.log.Info("relay node stopped", "took", time.Since(start).Round(time.Millisecond))
	})
	return err
}

// maintain runs the periodic work: the cleanup sweep and, in a cluster, refreshing the live
// records of the connections this node holds.
func (s *Server) maintain(ctx context.Context) {
	defer s.loops.Done()
	sweep := time.NewTicker(s.cfg.SweepInterval)
	defer sweep.Stop()
	touch := time.NewTicker(time.Minute)
	defer touch.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			if s.ready.Load() {
				s.sweep(ctx)
			}
		case <-touch.C:
			if s.ready.Load() {
				if d := s.core.TouchInterval(); d > 0 {
					touch.Reset(d)
				}
				if err := s.core.Touch(ctx); err != nil {
					s.log.Log(ctx, redisLevel(err, slog.LevelWarn), "refreshing live records", "error", err)
				}
			}
		}
	}
}

func (s *Server) sweep(ctx context.Context) {
	if n, err := s.core.Sweep(ctx); err != nil {
		s.log.Log(ctx, redisLevel(err, slog.LevelError), "sweeping sessions", "error", err)
	} else if n > 0 {
		s.log.Info("ended expired sessions", "count", n)
	}
	now := time.Now()
	if ids, err := s.db.PruneRelaySessions(ctx, now); err != nil {
		s.log.Error("pruning sessions", "error", err)
	} else if len(ids) > 0 {
		s.log.Debug("pruned ended sessions", "count", len(ids))
	}
	if _, err := s.db.DeleteExpiredBrowserSessions(ctx, now); err != nil {
		s.log.Error("pruning browser sessions", "error", err)
	}
	s.sweepHooks(ctx, now)
}

// redisLevel is the level to log a failure of a Redis user at: level, or debug when Redis is
// unreachable, which the cluster reports once for the node (see newCluster).
func redisLevel(err error, level slog.Level) slog.Level {
	if redisgate.IsConnErr(err) {
		return slog.LevelDebug
	}
	return level
}
