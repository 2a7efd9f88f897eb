package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime/pprof"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/pizzapi/pizzapi/clients/loadgen"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "load-test a relay: sessions publish events at a fixed rate to many viewers (loopback only)",
		Description: "Registers --sessions sessions on /relay, connects --viewers /viewer connections to each, " +
			"publishes --rate events/s per session for --warmup plus --duration, and reports deliveries, " +
			"loss, ordering and latency percentiles (and the relay's CPU and memory with --server-pid). " +
			"Works against pizzapi and against any Socket.IO relay with the same events (bench/node-relay).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Usage: "relay base URL, e.g. http://127.0.0.1:3000 (loopback only)", Required: true},
			&cli.StringFlag{Name: "viewer-url", Usage: "relay base URL the viewers connect to (another node, to measure across nodes); default --url"},
			&cli.StringFlag{Name: "api-key", Usage: "API key for /relay and /viewer", Sources: cli.EnvVars("PIZZAPI_API_KEY")},
			&cli.StringFlag{Name: "email", Usage: "register (or sign in to) this account with POST /api/register to get an API key"},
			&cli.StringFlag{Name: "password", Usage: "password for --email"},
			&cli.IntFlag{Name: "sessions", Value: 1, Usage: "sessions, each published by its own /relay connection"},
			&cli.IntFlag{Name: "viewers", Value: 1000, Usage: "viewer connections per session"},
			&cli.BoolFlag{Name: "viewer-polling", Usage: "viewers start on HTTP long-polling and upgrade to the websocket, as socket.io-client does by default"},
			&cli.FloatFlag{Name: "rate", Value: 100, Usage: "events per second per session (0: hold the viewers idle)"},
			&cli.DurationFlag{Name: "duration", Value: 10 * time.Second, Usage: "measured publishing time (or idle hold)"},
			&cli.DurationFlag{Name: "warmup", Value: 2 * time.Second, Usage: "publishing time before the measurement"},
			&cli.DurationFlag{Name: "drain", Value: 5 * time.Second, Usage: "longest wait for events in flight after the last send"},
			&cli.IntFlag{Name: "payload", Value: 200, Usage: "bytes per inner agent event"},
			&cli.IntFlag{Name: "server-pid", Usage: "relay process to sample (CPU from /proc/PID/stat, RSS from /proc/PID/status)"},
			&cli.IntFlag{Name: "concurrency", Value: 64, Usage: "connections opened at once"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
			&cli.BoolFlag{Name: "publisher-process", Usage: "run each session's publisher in a process of its own, so that its sends are not delayed by the load generator's viewers (the kernel, not Go's scheduler, shares the core)"},
			&cli.BoolFlag{Name: "publisher-child", Usage: "be a publisher process of --publisher-process (setup on stdin)", Hidden: true},
			&cli.StringFlag{Name: "slow-log", Usage: "write every measured delivery at least --slow-after late to this file (when it was read, its latency, its session), to line the tail up with GODEBUG=gctrace=1"},
			&cli.DurationFlag{Name: "slow-after", Value: 2 * time.Millisecond, Usage: "latency from which --slow-log records a delivery"},
			&cli.BoolFlag{Name: "allow-remote", Usage: "allow a relay that is not on a loopback address", Hidden: true},
			&cli.StringFlag{Name: "trace", Usage: "write a runtime/trace of the load generator over --trace-for from the end of the warm-up to this file", Hidden: true},
			&cli.DurationFlag{Name: "trace-for", Value: 3 * time.Second, Usage: "how long --trace records", Hidden: true},
			&cli.StringFlag{Name: "pprof", Usage: "write a CPU profile of the load generator to this file", Hidden: true},
		},
		Action: runBench,
	}
}

func runBench(ctx context.Context, cmd *cli.Command) error {
	base := cmd.String("url")
	if cmd.Bool("publisher-child") {
		if err := loadgen.ServePublisher(ctx, os.Stdin, os.Stdout); err != nil {
			return cli.Exit("bench: "+err.Error(), 1)
		}
		return nil
	}
	for _, u := range []string{base, cmd.String("viewer-url")} {
		if err := checkLoopback(u); u != "" && err != nil && !cmd.Bool("allow-remote") {
			return cli.Exit(err.Error(), 2)
		}
	}
	key := cmd.String("api-key")
	if key == "" {
		email, password := cmd.String("email"), cmd.String("password")
		if email == "" || password == "" {
			return cli.Exit("bench: give --api-key, or --email and --password to register an account", 2)
		}
		var err error
		if key, err = loadgen.Register(ctx, base, email, password); err != nil {
			return cli.Exit(err.Error(), 1)
		}
	}
	if path := cmd.String("pprof"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return cli.Exit(err.Error(), 1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return cli.Exit(err.Error(), 1)
		}
		defer pprof.StopCPUProfile()
	}
	asJSON := cmd.Bool("json")
	cfg := loadgen.Config{
		URL:           base,
		ViewerURL:     cmd.String("viewer-url"),
		APIKey:        key,
		Sessions:      int(cmd.Int("sessions")),
		Viewers:       int(cmd.Int("viewers")),
		ViewerPolling: cmd.Bool("viewer-polling"),
		Rate:          cmd.Float("rate"),
		Duration:      cmd.Duration("duration"),
		Warmup:        cmd.Duration("warmup"),
		Drain:         cmd.Duration("drain"),
		Payload:       int(cmd.Int("payload")),
		ServerPID:     int(cmd.Int("server-pid")),
		Concurrency:   int(cmd.Int("concurrency")),
		Logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
		},
	}
	if cmd.Bool("publisher-process") {
		exe, err := os.Executable()
		if err != nil {
			return cli.Exit("bench: "+err.Error(), 1)
		}
		cfg.PublisherCommand = []string{exe, "bench", "--url", base, "--publisher-child"}
	}
	if path := cmd.String("trace"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return cli.Exit(err.Error(), 1)
		}
		defer f.Close()
		cfg.Trace, cfg.TraceFor = f, cmd.Duration("trace-for")
	}
	slowPath := cmd.String("slow-log")
	if slowPath != "" {
		if cfg.SlowThreshold = cmd.Duration("slow-after"); cfg.SlowThreshold <= 0 {
			return cli.Exit("bench: --slow-after must be positive", 2)
		}
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return cli.Exit("bench: "+err.Error(), 1)
	}
	if slowPath != "" {
		if err := writeSlowLog(slowPath, res); err != nil {
			return cli.Exit("bench: "+err.Error(), 1)
		}
	}
	out := cmd.Root().Writer
	if out == nil {
		out = os.Stdout
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		res.WriteText(out)
	}
	return nil
}

// checkLoopback refuses relays that are not on this machine: the benchmark generates heavy
// traffic and must only ever target loopback addresses.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return fmt.Errorf("bench: bad --url %q", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("bench: --url must be a loopback address (127.0.0.0/8, ::1 or localhost)")
	}
	return nil
}

// writeSlowLog writes the run's slow deliveries to path.
func writeSlowLog(path string, res *loadgen.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := loadgen.WriteSlowLog(f, res); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
