package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/pizzapi/pizzapi/server"
	"github.com/pizzapi/pizzapi/server/config"
)

// shutdownTimeout bounds a graceful shutdown.
const shutdownTimeout = 2 * time.Second

func serveCommand() *cli.Command {
	d := config.Default()
	env := func(name string) cli.ValueSourceChain { return cli.EnvVars(name) }
	return &cli.Command{
		Name:  "serve",
		Usage: "run a relay node (in-memory live state, SQLite in the data directory)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "host", Value: d.Host, Usage: "address to listen on (0.0.0.0 for all interfaces)", Sources: env("PIZZAPI_HOST")},
			&cli.IntFlag{Name: "port", Value: d.Port, Usage: "port to listen on (0 picks a free one)", Sources: env("PORT")},
			&cli.StringFlag{Name: "base-url", Usage: "public URL of the relay, used in share URLs (default http://<host>:<port>)", Sources: env("PIZZAPI_BASE_URL")},
			&cli.StringFlag{Name: "data-dir", Value: d.DataDir, Usage: "directory of the SQLite database and attachments", Sources: env("PIZZAPI_DATA_DIR")},
			&cli.StringFlag{Name: "database-url", Usage: "postgres:// URL to keep durable data in PostgreSQL instead of SQLite", Sources: env("PIZZAPI_DATABASE_URL")},
			&cli.StringFlag{Name: "redis-url", Usage: "redis:// URL to share live state and fan-out with other nodes", Sources: env("PIZZAPI_REDIS_URL")},
			&cli.IntFlag{Name: "ephemeral-ttl-ms", Value: int(d.EphemeralTTL.Milliseconds()), Usage: "how long an ephemeral session lives without activity", Sources: env("PIZZAPI_EPHEMERAL_TTL_MS")},
			&cli.IntFlag{Name: "sweep-interval-ms", Value: int(d.SweepInterval.Milliseconds()), Usage: "how often expired sessions and records are cleaned up", Sources: env("PIZZAPI_EPHEMERAL_SWEEP_MS")},
			&cli.IntFlag{Name: "reconnect-grace-ms", Value: int(d.ReconnectGrace.Milliseconds()), Usage: "how long a session waits for its CLI to reconnect before it ends", Sources: env("PIZZAPI_RECONNECT_GRACE_MS")},
			&cli.IntFlag{Name: "event-buffer-size", Value: d.EventBufferSize, Usage: "events kept per session for replay to reconnecting viewers", Sources: env("PIZZAPI_RELAY_EVENT_BUFFER_SIZE")},
			&cli.IntFlag{Name: "event-ttl-ms", Value: int(d.EventTTL.Milliseconds()), Usage: "how long the history of a non-ephemeral session is kept", Sources: env("PIZZAPI_RELAY_EVENT_TTL_MS")},
			&cli.IntFlag{Name: "max-message-bytes", Value: d.MaxMessageBytes, Usage: "largest Socket.IO event payload accepted", Sources: env("PIZZAPI_MAX_MESSAGE_BYTES")},
			&cli.IntFlag{Name: "unauthenticated-message-bytes", Value: d.UnauthenticatedMessageBytes, Usage: "largest message of a connection with no authenticated socket", Sources: env("PIZZAPI_UNAUTHENTICATED_MESSAGE_BYTES")},
			&cli.Int64Flag{Name: "max-backlog-bytes", Value: d.MaxBacklogBytes, Usage: "bytes a client may fall behind (not yet sent to it) before it is dropped", Sources: env("PIZZAPI_MAX_BACKLOG_BYTES")},
			&cli.Int64Flag{Name: "large-message-budget-bytes", Usage: "bytes of large incoming messages read at once across connections (default twice --max-message-bytes)", Sources: env("PIZZAPI_LARGE_MESSAGE_BUDGET_BYTES")},
			&cli.Int64Flag{Name: "attachment-max-bytes", Value: d.AttachmentMaxBytes, Usage: "largest attachment upload", Sources: env("PIZZAPI_ATTACHMENT_MAX_FILE_SIZE_BYTES")},
			&cli.IntFlag{Name: "attachment-ttl-ms", Value: int(d.AttachmentTTL.Milliseconds()), Usage: "how long attachments are kept", Sources: env("PIZZAPI_ATTACHMENT_TTL_MS")},
			&cli.Int64Flag{Name: "attachment-request-max-bytes", Value: d.AttachmentRequestMaxBytes, Usage: "largest total of the files of one upload", Sources: env("PIZZAPI_ATTACHMENT_REQUEST_MAX_BYTES")},
			&cli.Int64Flag{Name: "attachment-quota-bytes", Value: d.AttachmentQuotaBytes, Usage: "attachment bytes one user may keep stored until they expire (0: no limit)", Sources: env("PIZZAPI_ATTACHMENT_QUOTA_BYTES")},
			&cli.IntFlag{Name: "http-body-timeout-ms", Value: int(d.HTTPBodyTimeout.Milliseconds()), Usage: "how long a REST or long-polling request body may take to arrive (uploads and large messages get more at 64 KiB/s)", Sources: env("PIZZAPI_HTTP_BODY_TIMEOUT_MS")},
			&cli.IntFlag{Name: "http-idle-timeout-ms", Value: int(d.HTTPIdleTimeout.Milliseconds()), Usage: "how long an idle keep-alive connection is kept", Sources: env("PIZZAPI_HTTP_IDLE_TIMEOUT_MS")},
			&cli.IntFlag{Name: "max-public-requests", Value: d.MaxPublicRequests, Usage: "register, sign-up and sign-in requests in progress at once; more get 503", Sources: env("PIZZAPI_MAX_PUBLIC_REQUESTS")},
			&cli.IntFlag{Name: "signups-per-hour", Value: d.SignupsPerHour, Usage: "accounts one client address may create per hour (0: no limit)", Sources: env("PIZZAPI_SIGNUPS_PER_HOUR")},
			&cli.BoolFlag{Name: "disable-signup", Usage: "refuse new accounts", Sources: env("PIZZAPI_DISABLE_SIGNUP")},
			&cli.StringFlag{Name: "cors-origins", Usage: "comma-separated browser origins allowed besides the base URL's", Sources: env("PIZZAPI_CORS_ORIGINS")},
			&cli.BoolFlag{Name: "trust-proxy", Usage: "take client addresses from X-Forwarded-For behind one reverse proxy", Sources: env("PIZZAPI_TRUST_PROXY")},
			&cli.IntFlag{Name: "trusted-proxies", Usage: "how many reverse proxies in front append to X-Forwarded-For (implies --trust-proxy)", Sources: env("PIZZAPI_TRUSTED_PROXIES")},
			&cli.StringFlag{Name: "vapid-public-key", Usage: "Web Push VAPID public key, URL-safe base64 (default: a pair generated on first start and kept in the durable store)", Sources: env("VAPID_PUBLIC_KEY")},
			&cli.StringFlag{Name: "vapid-private-key", Usage: "Web Push VAPID private key, URL-safe base64 (with --vapid-public-key)", Sources: env("VAPID_PRIVATE_KEY")},
			&cli.StringFlag{Name: "vapid-subject", Usage: "contact for push services, mailto: or https: (default: the base URL when https, else mailto:admin@pizzapi.local)", Sources: env("VAPID_SUBJECT")},
			&cli.StringFlag{Name: "push-allow-endpoint", Usage: "comma-separated URL prefixes of push endpoints accepted besides https ones on public addresses", Sources: env("PIZZAPI_PUSH_ALLOW_ENDPOINT")},
			&cli.BoolFlag{Name: "disable-push", Usage: "turn Web Push notifications off", Sources: env("PIZZAPI_DISABLE_PUSH")},
			&cli.BoolFlag{Name: "legacy-ws", Value: d.LegacyWS, Usage: "serve PizzaPi's old raw-WebSocket clients on /ws/ (deprecated; off: /ws/ answers 410)", Sources: env("PIZZAPI_LEGACY_WS")},
			&cli.StringFlag{Name: "log-level", Value: d.LogLevel, Usage: "debug, info, warn or error", Sources: env("PIZZAPI_LOG_LEVEL")},
			&cli.StringFlag{Name: "log-format", Value: d.LogFormat, Usage: "text or json", Sources: env("PIZZAPI_LOG_FORMAT")},
			&cli.IntFlag{Name: "gc-percent", Value: d.GCPercent, Usage: "garbage collection target, as GOGC (which takes precedence when set): lower keeps less garbage room per connection for more collection work (0: the runtime's 100)", Sources: env("PIZZAPI_GC_PERCENT")},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			cfg := config.Default()
			cfg.Host = cmd.String("host")
			cfg.Port = int(cmd.Int("port"))
			cfg.BaseURL = cmd.String("base-url")
			cfg.DataDir = cmd.String("data-dir")
			cfg.DatabaseURL = cmd.String("database-url")
			cfg.RedisURL = cmd.String("redis-url")
			cfg.EphemeralTTL = ms(cmd.Int("ephemeral-ttl-ms"))
			cfg.SweepInterval = ms(cmd.Int("sweep-interval-ms"))
			cfg.ReconnectGrace = ms(cmd.Int("reconnect-grace-ms"))
			cfg.EventBufferSize = int(cmd.Int("event-buffer-size"))
			cfg.EventTTL = ms(cmd.Int("event-ttl-ms"))
			cfg.MaxMessageBytes = int(cmd.Int("max-message-bytes"))
			cfg.UnauthenticatedMessageBytes = int(cmd.Int("unauthenticated-message-bytes"))
			cfg.LargeMessageBudget = cmd.Int64("large-message-budget-bytes")
			cfg.MaxBacklogBytes = cmd.Int64("max-backlog-bytes")
			cfg.AttachmentMaxBytes = cmd.Int64("attachment-max-bytes")
			cfg.AttachmentTTL = ms(cmd.Int("attachment-ttl-ms"))
			cfg.AttachmentRequestMaxBytes = cmd.Int64("attachment-request-max-bytes")
			cfg.AttachmentQuotaBytes = cmd.Int64("attachment-quota-bytes")
			cfg.HTTPBodyTimeout = ms(cmd.Int("http-body-timeout-ms"))
			cfg.HTTPIdleTimeout = ms(cmd.Int("http-idle-timeout-ms"))
			cfg.MaxPublicRequests = int(cmd.Int("max-public-requests"))
			cfg.SignupsPerHour = int(cmd.Int("signups-per-hour"))
			cfg.DisableSignup = cmd.Bool("disable-signup")
			if o := cmd.String("cors-origins"); o != "" {
				cfg.CORSOrigins = strings.Split(o, ",")
			}
			cfg.TrustProxy = cmd.Bool("trust-proxy")
			cfg.VAPIDPublicKey = cmd.String("vapid-public-key")
			cfg.VAPIDPrivateKey = cmd.String("vapid-private-key")
			cfg.VAPIDSubject = cmd.String("vapid-subject")
			if p := cmd.String("push-allow-endpoint"); p != "" {
				cfg.PushAllowEndpoints = strings.Split(p, ",")
			}
			cfg.DisablePush = cmd.Bool("disable-push")
			cfg.TrustedProxies = int(cmd.Int("trusted-proxies"))
			cfg.LegacyWS = cmd.Bool("legacy-ws")
			cfg.LogLevel = cmd.String("log-level")
			cfg.LogFormat = cmd.String("log-format")
			cfg.GCPercent = int(cmd.Int("gc-percent"))
			return serve(ctx, cfg)
		},
	}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// serve runs a relay node until ctx ends (SIGINT/SIGTERM), then shuts it down gracefully.
func serve(ctx context.Context, cfg config.Config) error {
	log := newLogger(cfg)
	// Listen first, so that port 0 resolves and the base URL names the real port.
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return cli.Exit(fmt.Sprintf("cannot listen on %s: %v", cfg.Addr(), err), 1)
	}
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return cli.Exit(err.Error(), 1)
	}
	if err := cfg.Validate(); err != nil {
		ln.Close()
		return cli.Exit(err.Error(), 1)
	}
	cfg.ApplyGC()
	fmt.Fprintf(os.Stderr, "pizzapi relay listening on %s (data in %s)\n", cfg.BaseURL, storeWhere(cfg))
	fmt.Fprintf(os.Stderr, "Create an account: open %s in a browser, or run `pizzapi login --server %s`.\n", cfg.BaseURL, cfg.BaseURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "error", err)
	}
	return <-errc
}

func storeWhere(cfg config.Config) string {
	if cfg.DatabaseURL != "" {
		return "PostgreSQL"
	}
	return cfg.DataDir
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
