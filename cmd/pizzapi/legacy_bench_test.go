package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/login"
)

// BenchmarkLegacyRelay measures an old CLI streaming message_update events through a real
// `pizzapi serve` to an old viewer: frames are sent back to back, and the clock stops when the
// viewer has the last one. It reports events per second through the legacy bridge.
func BenchmarkLegacyRelay(b *testing.B) {
	p := startRelay(b, nil)
	key, err := login.Register(context.Background(), p.url, "bench", "bench@example.com", "correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	h := http.Header{"x-api-key": {key}}
	cli := &oldCLI{legacyClient: dialLegacy(b, p.url, "/ws/sessions", h)}
	cli.register("bench-1")
	cli.event(sessionActive("bench"))
	v := dialLegacy(b, p.url, "/ws/sessions/bench-1", h)
	v.next("connected", nil)
	v.next("event", nil)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		cli.seq++
		cli.send(map[string]any{"type": "event", "sessionId": cli.sessionID, "token": cli.token, "seq": cli.seq,
			"event": textDelta("chunk " + strconv.Itoa(i) + ".")})
	}
	last := `"chunk ` + strconv.Itoa(b.N-1) + `."`
	v.next("event", func(f map[string]json.RawMessage) bool { return strings.Contains(string(f["event"]), last) })
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
