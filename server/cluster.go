package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	sioredis "github.com/zishang520/socket.io/adapters/redis/v3"
	"github.com/zishang520/socket.io/adapters/redis/v3/adapter"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/live/redislive"
	"github.com/pizzapi/pizzapi/server/redisgate"
)

// keyPrefix starts every Redis key and channel of the relay.
const keyPrefix = "pizzapi:"

// cluster is a node's link to the other nodes: Redis for live state and fan-out.
type cluster struct {
	cfg  config.Config
	log  *slog.Logger
	node string
	rdb  *redis.Client
	addr string
	// gate backs off every reconnection to Redis and reports an outage once.
	gate *redisgate.Gate
}

func newCluster(cfg config.Config, log *slog.Logger) (*cluster, error) {
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	routeRedisLog(log)
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 5 * time.Second
	opts.WriteTimeout = 5 * time.Second
	// One dial per connection attempt: the gate already spaces out dials while Redis is down, and
	// lets each wait at most 250 ms. The pool's own retries (five dials 100 ms apart by default)
	// multiplied that by five for every retry of a command, so that a command failed after some
	// 7 s instead of about one, and more than 10 s on a loaded machine.
	opts.DialerRetries = 1
	c := &cluster{cfg: cfg, log: log, node: uuid.NewString(), rdb: redis.NewClient(opts), addr: opts.Addr}
	c.gate = redisgate.New(redisgate.Options{
		OnDown: func(err error) {
			log.Error("Redis is unreachable: live state and fan-out wait for it; reconnecting with backoff (100 ms to 5 s)",
				"address", c.addr, "error", err)
		},
		OnUp: func(outage time.Duration) {
			log.Info("Redis is reachable again", "address", c.addr, "outage", outage.Round(time.Millisecond))
		},
	})
	c.rdb.AddHook(c.gate)
	return c, nil
}

// connect waits for Redis (retrying with backoff until ctx ends), checks that the other nodes
// keep durable data where this one does, and returns the shared live state and bus.
func (c *cluster) connect(ctx context.Context, durable fmt.Stringer) (live.Store, bus.Bus, error) {
	// The gate spaces out the attempts and says once that Redis is unreachable.
	for {
		err := c.rdb.Ping(ctx).Err()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		c.log.Debug("waiting for Redis", "address", c.addr, "error", err)
		if !redisgate.IsConnErr(err) {
			select {
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
	identity := durable.String()
	nodes, err := bus.Nodes(ctx, c.rdb, keyPrefix)
	if err != nil {
		return nil, nil, err
	}
	for node, other := range nodes {
		if other != identity {
			return nil, nil, fmt.Errorf("node %s shares this Redis but keeps durable data in %s, and this node in %s: "+
				"nodes of a cluster must share one PostgreSQL database (--database-url)", node, other, identity)
		}
	}
	ls := redislive.New(c.rdb, redislive.Options{Prefix: keyPrefix, HistorySize: c.cfg.EventBufferSize})
	return ls, bus.NewRedis(c.rdb, c.node, identity, keyPrefix, c.log), nil
}

func (c *cluster) ping(ctx context.Context) error { return c.rdb.Ping(ctx).Err() }

// sharedSecret returns the cluster's secret of the given name, which the first node to ask
// creates: the key of tokens that one node issues and another checks.
func (c *cluster) sharedSecret(ctx context.Context, name string) ([]byte, error) {
	key := keyPrefix + "secret:" + name
	if err := c.rdb.SetNX(ctx, key, auth.NewToken(32), 0).Err(); err != nil {
		return nil, err
	}
	v, err := c.rdb.Get(ctx, key).Bytes()
	if err != nil {
		return nil, err
	}
	return v, nil
}

// adapter is the Socket.IO adapter of a cluster node: the Redis streams adapter, which keeps
// Connection State Recovery sessions in Redis so that a client can recover on another node. The
// relay's own messages do not go through it (see server/bus).
func (c *cluster) adapter() socket.AdapterConstructor {
	rc := sioredis.NewRedisClient(context.Background(), c.rdb)
	_ = rc.On("error", func(args ...any) { c.log.Debug("socket.io adapter", "error", fmt.Sprint(args...)) })
	opts := adapter.DefaultRedisStreamsAdapterOptions()
	opts.SetStreamName(keyPrefix + "sio")
	opts.SetChannelPrefix(keyPrefix + "sio")
	opts.SetSessionKeyPrefix(keyPrefix + "sio:session:")
	opts.SetMaxLen(100_000)
	return &adapter.RedisStreamsAdapterBuilder{Redis: rc, Opts: opts}
}

// close closes the Redis client; whatever still waits for Redis fails at once.
func (c *cluster) close() {
	c.gate.Close()
	_ = c.rdb.Close()
}

// storeIdentity names where a node keeps durable data, to tell nodes that share it from nodes
// that do not: the PostgreSQL server and database, or the SQLite file on this host.
type storeIdentity config.Config

func (s storeIdentity) String() string {
	if s.DatabaseURL != "" {
		u, err := url.Parse(s.DatabaseURL)
		if err == nil {
			return "postgres://" + u.Host + u.Path
		}
		return "postgres"
	}
	host, _ := os.Hostname()
	path, err := filepath.Abs(filepath.Join(s.DataDir, "pizzapi.db"))
	if err != nil {
		path = s.DataDir
	}
	return "sqlite://" + host + path
}
