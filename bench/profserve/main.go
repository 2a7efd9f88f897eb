// Command profserve runs a pizzapi relay node exactly as `pizzapi serve` builds it (default
// configuration, SQLite in -data-dir, loopback only; with -redis-url and -database-url a cluster
// node) and serves net/http/pprof on a second
// loopback port, so that bench/run.sh can take a CPU profile of the relay under load:
//
//	go run ./bench/profserve -data-dir DIR
//	curl -o cpu.pprof 'http://127.0.0.1:PPROF/debug/pprof/profile?seconds=8'
//	go tool pprof -top cpu.pprof
//
// It prints "listening on URL" and "pprof on URL" on stderr and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pizzapi/pizzapi/server"
	"github.com/pizzapi/pizzapi/server/config"
)

func main() {
	port := flag.Int("port", 0, "relay port (0: a free one)")
	dataDir := flag.String("data-dir", "", "data directory (required)")
	pprofAddr := flag.String("pprof", "127.0.0.1:0", "loopback address of the pprof server")
	redisURL := flag.String("redis-url", "", "Redis URL: run as a cluster node (as pizzapi serve --redis-url)")
	databaseURL := flag.String("database-url", "", "PostgreSQL URL for durable data (as pizzapi serve --database-url)")
	flag.Parse()
	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "profserve: -data-dir is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := config.Default()
	cfg.Host = "127.0.0.1"
	cfg.Port = *port
	cfg.DataDir = *dataDir
	cfg.RedisURL = *redisURL
	cfg.DatabaseURL = *databaseURL
	if err := run(ctx, cfg, *pprofAddr); err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config.Config, pprofAddr string) error {
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return err
	}
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg.ApplyGC()
	pl, err := net.Listen("tcp", pprofAddr)
	if err != nil {
		return err
	}
	if ip := pl.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		return fmt.Errorf("pprof address %s is not a loopback address", ip)
	}
	go func() { _ = http.Serve(pl, nil) }()
	fmt.Fprintf(os.Stderr, "listening on %s\npprof on http://%s/debug/pprof/\n", cfg.BaseURL, pl.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return <-errc
}
