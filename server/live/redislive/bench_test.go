package redislive

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/redistest"
	"github.com/pizzapi/pizzapi/server/live"
)

// benchEvent is a typical streamed token delta.
var benchEvent = []byte(`{"type":"message_update","assistantMessageEvent":{"type":"text_delta","contentIndex":0,"delta":"` +
	strings.Repeat("token ", 30) + `"},"message":{"role":"assistant","content":[]}}`)

// BenchmarkAppend measures Append against a local redis-server: one session appended to by one
// goroutine (the latency of the relay's per-session pipeline), and many sessions appended to in
// parallel (the throughput of a node). It reports the Redis round trips per append.
func BenchmarkAppend(b *testing.B) {
	rdb := client(b, redistest.Start(b))
	hook := &countHook{}
	rdb.AddHook(hook)
	st := New(rdb, Options{Prefix: prefix(), HistorySize: DefaultHistorySize})
	ctx := b.Context()
	exp := time.Now().Add(10 * time.Minute)

	b.Run("ping-baseline", func(b *testing.B) {
		for range b.N {
			if err := rdb.Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	report := func(b *testing.B) {
		b.ReportMetric(float64(hook.roundTrips.Load())/float64(b.N), "roundtrips/op")
		b.ReportMetric(float64(hook.commands.Load())/float64(b.N), "commands/op")
	}
	b.Run("serial", func(b *testing.B) {
		id := fmt.Sprint("serial-", b.N)
		if err := st.CreateSession(ctx, &live.Session{ID: id}); err != nil {
			b.Fatal(err)
		}
		if _, err := st.Append(ctx, id, 0, "x", nil, nil); err != nil { // loads the script
			b.Fatal(err)
		}
		hook.roundTrips.Store(0)
		hook.commands.Store(0)
		b.SetBytes(int64(len(benchEvent)))
		b.ResetTimer()
		for i := range b.N {
			if _, err := st.Append(ctx, id, int64(i+1), "message_update", benchEvent, &exp); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b)
	})
	b.Run("parallel", func(b *testing.B) {
		sessions := 8 * runtime.GOMAXPROCS(0)
		for i := range sessions {
			if err := st.CreateSession(ctx, &live.Session{ID: fmt.Sprint("parallel-", b.N, "-", i)}); err != nil {
				b.Fatal(err)
			}
		}
		var n atomic.Int64
		hook.roundTrips.Store(0)
		hook.commands.Store(0)
		b.SetBytes(int64(len(benchEvent)))
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			id := fmt.Sprint("parallel-", b.N, "-", n.Add(1)%int64(sessions))
			var cli int64
			for pb.Next() {
				cli++
				if _, err := st.Append(ctx, id, cli, "message_update", benchEvent, &exp); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		report(b)
	})
	if testing.Verbose() {
		stats := rdb.Info(ctx, "commandstats").Val()
		for line := range strings.Lines(stats) {
			if strings.HasPrefix(line, "cmdstat_evalsha:") {
				b.Logf("server side: %s", strings.TrimSpace(line))
			}
		}
	}
}
