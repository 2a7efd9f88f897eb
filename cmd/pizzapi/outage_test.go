package main

import (
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/pgtest"
	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/internal/syncbuf"
)

// cpuTicks returns the CPU time (user + system, in clock ticks of 10 ms) the process has used.
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	// The command name (field 2) may hold spaces; the fields after its closing parenthesis are
	// state (3) ... utime (14) and stime (15).
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return utime + stime
}

// cpuShare is the share of one core the process used over d (ticks are 10 ms).
func cpuShare(t *testing.T, pid int, d time.Duration) float64 {
	t.Helper()
	before := cpuTicks(t, pid)
	start := time.Now()
	time.Sleep(d)
	used := time.Duration(cpuTicks(t, pid)-before) * 10 * time.Millisecond
	return float64(used) / float64(time.Since(start))
}

// waitLog waits until the node's log contains s (a hang guard of 30 s).
func waitLog(t *testing.T, p *relayProcess, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.log.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("node never logged %q; log:\n%s", s, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedisOutageBacksOff is item 9: a real node whose Redis stops uses almost no CPU and makes a
// handful of connection attempts (it made ~3,350 a second and used 35–73 % of a core), whether
// the port refuses connections or something accepts them and hangs up; it says once that Redis is
// gone and once that it is back, and serves again.
func TestRedisOutageBacksOff(t *testing.T) {
	bin := binary(t)
	rds := redistest.StartServer(t)
	port := freePort(t)
	p := &relayProcess{name: "A", url: "http://127.0.0.1:" + strconv.Itoa(port), log: &syncbuf.Buffer{},
		args: []string{bin, "serve", "--host", "127.0.0.1", "--port", strconv.Itoa(port),
			"--redis-url", "redis://" + rds.Addr, "--log-level", "debug", "--database-url", pgtest.Database(t), "--data-dir", t.TempDir()}}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("node log:\n%s", p.log)
		}
	})
	p.start(t)
	p.waitReady(t)
	pid := p.cmd.Process.Pid
	idle := cpuShare(t, pid, 2*time.Second)

	rds.Stop()
	waitLog(t, p, "Redis is unreachable")
	time.Sleep(500 * time.Millisecond) // the loops that were waiting on Redis notice
	refused := cpuShare(t, pid, 3*time.Second)

	// Something on Redis's port that accepts connections and closes them at once.
	ln, err := net.Listen("tcp", rds.Addr)
	if err != nil {
		t.Fatalf("taking over the Redis port: %v", err)
	}
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	time.Sleep(500 * time.Millisecond)
	accepted.Store(0)
	start := time.Now()
	dropped := cpuShare(t, pid, 3*time.Second)
	attempts := float64(accepted.Load()) / time.Since(start).Seconds()
	ln.Close()

	t.Logf("CPU: idle %.1f %%, Redis refusing %.1f %%, Redis dropping connections %.1f %% (%.1f connection attempts/s)",
		100*idle, 100*refused, 100*dropped, attempts)
	for what, share := range map[string]float64{"refusing connections": refused, "dropping connections": dropped} {
		if share > 0.05 {
			t.Errorf("with Redis %s the node used %.1f %% of a core, want under 5 %%", what, 100*share)
		}
	}
	if attempts > 10 {
		t.Errorf("%.1f connection attempts a second while Redis dropped them, want a few (backoff up to 5 s)", attempts)
	}

	rds.Start()
	waitLog(t, p, "Redis is reachable again")
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the node did not report healthy after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	log := p.log.String()
	if n := strings.Count(log, "Redis is unreachable"); n != 1 {
		t.Errorf("the outage was reported %d times, want once", n)
	}
	if n := strings.Count(log, "Redis is reachable again"); n != 1 {
		t.Errorf("the recovery was reported %d times, want once", n)
	}
	// From the outage to the recovery, the report is the only warning or error.
	from := strings.Index(log, "Redis is unreachable")
	from = strings.LastIndexByte(log[:from], '\n') + 1 // the start of the report's line
	outage := log[from:strings.Index(log, "Redis is reachable again")]
	if n := strings.Count(outage, "level=WARN") + strings.Count(outage, "level=ERROR"); n != 1 {
		t.Errorf("%d warnings and errors during the outage, want the one report:\n%s", n, outage)
	}

	// Item 10: SIGTERM while Redis is down stops the node cleanly, through every step, without
	// waiting for Redis (it took 1.2 s; only a hang guard bounds it here).
	rds.Stop()
	deadline = time.Now().Add(30 * time.Second)
	for strings.Count(p.log.String(), "Redis is unreachable:") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	start = time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the node did not stop after SIGTERM with Redis down")
	}
	t.Logf("stopped %v after SIGTERM with Redis down", time.Since(start))
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after SIGTERM", code)
	}
	log = p.log.String()
	wantSteps(t, strings.Split(log[strings.LastIndex(log, "Redis is unreachable:"):], "\n"), "shutting down",
		"without cleaning up", "step=socket.io", "step=http", "step=store", "relay node stopped")
}
