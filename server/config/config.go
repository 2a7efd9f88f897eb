// Package config holds the settings of a relay node, with their defaults and the environment
// variables (PizzaPi's names where PizzaPi has one) that override them.
package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Config is everything a relay node needs to start.
type Config struct {
	// Host and Port are where the HTTP server listens.
	Host string
	Port int
	// BaseURL is the public URL of the relay, used in share URLs and as the allowed CORS origin.
	BaseURL string
	// DataDir holds the SQLite database and uploaded attachments.
	DataDir string
	// DatabaseURL, when set, is a postgres:// URL that replaces the SQLite file.
	DatabaseURL string
	// RedisURL, when set, moves live state and fan-out to Redis (several nodes).
	RedisURL string

	// EphemeralTTL is how long an ephemeral session lives without activity.
	EphemeralTTL time.Duration
	// SweepInterval is how often expired sessions, attachments and records are cleaned up.
	SweepInterval time.Duration
	// ReconnectGrace is how long a session waits for its CLI after the connection dropped.
	ReconnectGrace time.Duration
	// EventBufferSize is how many events of a session the relay keeps for gap replay.
	EventBufferSize int
	// EventTTL is how long the history of a non-ephemeral session is kept after its last event.
	EventTTL time.Duration
	// MaxMessageBytes bounds one Socket.IO message (a session_active snapshot can be several MB).
	// Only sockets authenticated on /relay or /runner may send messages this large.
	MaxMessageBytes int
	// UnauthenticatedMessageBytes bounds one message of a connection with no authenticated
	// socket (the handshake and a namespace CONNECT take a few KiB).
	UnauthenticatedMessageBytes int
	// MaxBacklogBytes is how far a client may fall behind (bytes written to it and not yet sent,
	// single large messages aside) before it is dropped.
	MaxBacklogBytes int64
	// LargeMessageBudget bounds the bytes of all incoming messages over the unauthenticated limit
	// being read at once, across connections (0: twice the largest message).
	LargeMessageBudget int64
	// MaxBodyBytes bounds a JSON REST request body.
	MaxBodyBytes int64
	// HTTPBodyTimeout is how long a REST request body or a Socket.IO long-polling body may take
	// to arrive (an upload or a large polling message gets this plus the time its size takes at
	// 64 KiB/s).
	HTTPBodyTimeout time.Duration
	// HTTPIdleTimeout is how long an idle keep-alive connection is kept open.
	HTTPIdleTimeout time.Duration
	// AttachmentMaxBytes bounds one uploaded attachment; AttachmentTTL is how long it is kept.
	AttachmentMaxBytes int64
	AttachmentTTL      time.Duration
	// AttachmentRequestMaxBytes bounds the files of one upload together.
	AttachmentRequestMaxBytes int64
	// AttachmentQuotaBytes bounds the bytes one user keeps in attachments that have not expired
	// (0: no limit).
	AttachmentQuotaBytes int64

	// DisableSignup refuses new accounts (existing users can still sign in).
	DisableSignup bool
	// CORSOrigins are browser origins allowed besides the base URL's.
	CORSOrigins []string
	// TrustProxy makes the relay take client addresses from X-Forwarded-For (behind a proxy); it
	// means one proxy unless TrustedProxies says how many.
	TrustProxy bool
	// TrustedProxies is how many reverse proxies stand in front of the relay, each appending to
	// X-Forwarded-For: the client address is the hop the outermost one wrote.
	TrustedProxies int
	// SignupsPerHour bounds the accounts one client address may create in an hour (0: no limit).
	SignupsPerHour int
	// MaxPublicRequests bounds the requests in progress at once to the endpoints that need no
	// credentials (register, sign-up, sign-in).
	MaxPublicRequests int

	// VAPIDPublicKey and VAPIDPrivateKey, when both set, are the Web Push key pair (URL-safe
	// base64); otherwise a pair is generated on first start and kept in the durable store, shared
	// by every node.
	VAPIDPublicKey  string
	VAPIDPrivateKey string
	// VAPIDSubject is the contact push services see, a mailto: or https: URL (default: the base
	// URL when it is https, else mailto:admin@pizzapi.local).
	VAPIDSubject string
	// PushAllowEndpoints are URL prefixes of push endpoints accepted besides https endpoints on
	// public addresses (a push service in a private network; tests).
	PushAllowEndpoints []string
	// DisablePush turns Web Push notifications off (no outgoing requests; the push endpoints
	// answer 503).
	DisablePush bool

	// LegacyWS serves PizzaPi's raw-WebSocket paths (/ws/...) for clients older than its move to
	// Socket.IO; when off they answer 410.
	LegacyWS bool

	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string
	LogFormat string

	// GCPercent is the garbage collector's target (as GOGC): the heap may grow by this percentage
	// of the live heap before a collection. The relay's heap is mostly long-lived connection
	// state, and the memory of an idle connection is its live heap plus this share of garbage
	// room; the fan-out path allocates little, so collecting more often costs little CPU. The
	// pizzapi binary applies it (ApplyGC), a GOGC environment variable taking precedence; 0
	// leaves the runtime's default (100).
	GCPercent int
}

// Default returns the settings of `pizzapi serve` without flags or environment.
func Default() Config {
	return Config{
		Host:                        "127.0.0.1",
		Port:                        3000,
		DataDir:                     defaultDataDir(),
		EphemeralTTL:                10 * time.Minute,
		SweepInterval:               time.Minute,
		ReconnectGrace:              2 * time.Minute,
		EventBufferSize:             1000,
		EventTTL:                    24 * time.Hour,
		MaxMessageBytes:             64 << 20,
		MaxBacklogBytes:             512 << 10,
		MaxBodyBytes:                1 << 20,
		AttachmentMaxBytes:          20 << 20,
		AttachmentTTL:               15 * time.Minute,
		LogLevel:                    "info",
		LogFormat:                   "text",
		GCPercent:                   50,
		LegacyWS:                    true,
		UnauthenticatedMessageBytes: 16 << 10,

		HTTPBodyTimeout:           10 * time.Second,
		HTTPIdleTimeout:           30 * time.Second,
		AttachmentRequestMaxBytes: 50 << 20,
		AttachmentQuotaBytes:      200 << 20,
		SignupsPerHour:            10,
		MaxPublicRequests:         64,
	}
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "pizzapi")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "pizzapi")
	}
	return "pizzapi-data"
}

// Validate checks the settings and fills in what derives from others (the base URL).
func (c *Config) Validate() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("port %d is out of range", c.Port)
	}
	if c.BaseURL == "" {
		host := c.Host
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.BaseURL = "http://" + hostPort(host, c.Port)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base URL %q must be an http(s) URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.DataDir == "" && c.DatabaseURL == "" {
		return fmt.Errorf("a data directory is needed")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("database URL must start with postgres://")
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		return fmt.Errorf("redis URL must start with redis:// or rediss://")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ephemeral TTL", c.EphemeralTTL}, {"sweep interval", c.SweepInterval}, {"reconnect grace", c.ReconnectGrace}, {"event TTL", c.EventTTL}, {"attachment TTL", c.AttachmentTTL},
		{"HTTP body timeout", c.HTTPBodyTimeout}, {"HTTP idle timeout", c.HTTPIdleTimeout}} {
		if d.v <= 0 {
			return fmt.Errorf("%s must be positive", d.name)
		}
	}
	if c.AttachmentRequestMaxBytes < c.AttachmentMaxBytes {
		return fmt.Errorf("attachment request limit (%d) must be at least the attachment size limit (%d)", c.AttachmentRequestMaxBytes, c.AttachmentMaxBytes)
	}
	if c.AttachmentQuotaBytes < 0 || c.SignupsPerHour < 0 || c.TrustedProxies < 0 {
		return fmt.Errorf("attachment quota, sign-ups per hour and trusted proxies must not be negative")
	}
	if c.MaxPublicRequests < 1 {
		return fmt.Errorf("max public requests must be at least 1")
	}
	if c.TrustProxy && c.TrustedProxies == 0 {
		c.TrustedProxies = 1
	}
	if c.EventBufferSize < 1 {
		return fmt.Errorf("event buffer size must be at least 1")
	}
	if c.MaxMessageBytes < 64<<10 {
		return fmt.Errorf("max message size must be at least 64 KiB")
	}
	if c.UnauthenticatedMessageBytes < 4<<10 || c.UnauthenticatedMessageBytes > c.MaxMessageBytes {
		return fmt.Errorf("the unauthenticated message limit must be between 4 KiB and the max message size")
	}
	if c.MaxBacklogBytes < 64<<10 {
		return fmt.Errorf("the max backlog must be at least 64 KiB")
	}
	if c.LargeMessageBudget == 0 {
		c.LargeMessageBudget = 2 * (int64(c.MaxMessageBytes) + 1<<20)
	}
	if c.LargeMessageBudget < int64(c.MaxMessageBytes)+1<<20 {
		return fmt.Errorf("the large message budget must hold at least one message of the max message size")
	}
	if (c.VAPIDPublicKey == "") != (c.VAPIDPrivateKey == "") {
		return fmt.Errorf("the VAPID public and private keys must be given together")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log level %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log format %q is not text or json", c.LogFormat)
	}
	if c.GCPercent < 0 {
		return fmt.Errorf("the GC percentage must not be negative")
	}
	return nil
}

// ApplyGC sets the process's garbage collection target to GCPercent, unless it is 0 (the
// runtime's default) or GOGC is set in the environment, which the runtime has applied already.
func (c Config) ApplyGC() {
	if c.GCPercent > 0 && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(c.GCPercent)
	}
}

// Addr is the listen address.
func (c *Config) Addr() string { return hostPort(c.Host, c.Port) }

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// Origins returns the browser origins allowed to connect: the base URL's plus CORSOrigins.
func (c *Config) Origins() []string {
	out := []string{}
	if u, err := url.Parse(c.BaseURL); err == nil {
		out = append(out, u.Scheme+"://"+u.Host)
	}
	for _, o := range c.CORSOrigins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// SecureCookies reports whether cookies should carry the Secure attribute.
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }
