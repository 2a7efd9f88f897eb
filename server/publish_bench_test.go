package server_test

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// benchWS is a raw Engine.IO websocket client for benchmarks: it writes prebuilt packets and
// reads frames without keeping them, so that the allocations a benchmark counts are the relay's
// rather than a client library's.
type benchWS struct {
	b  *testing.B
	ws *websocket.Conn
}

func dialBenchWS(b *testing.B, n *servertest.Node, nsp string, auth map[string]any) *benchWS {
	b.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(n.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ws.Close() })
	c := &benchWS{b: b, ws: ws}
	if open := c.next(); !strings.HasPrefix(open, "0{") {
		b.Fatalf("open packet %q", open)
	}
	raw, _ := json.Marshal(auth)
	c.send([]byte("40" + nsp + "," + string(raw)))
	if got := c.next(); !strings.HasPrefix(got, "40"+nsp+",") {
		b.Fatalf("connect to %s: %q", nsp, got)
	}
	return c
}

// next returns the next packet, answering pings.
func (c *benchWS) next() string {
	c.b.Helper()
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(servertest.Timeout))
		_, p, err := c.ws.ReadMessage()
		if err != nil {
			c.b.Fatalf("read: %v", err)
		}
		if string(p) != "2" {
			return string(p)
		}
		c.send([]byte("3"))
	}
}

func (c *benchWS) send(pkt []byte) {
	if err := c.ws.WriteMessage(websocket.TextMessage, pkt); err != nil {
		c.b.Fatal(err)
	}
}

// discard reads one frame and drops it, reporting whether it was an Engine.IO message.
func (c *benchWS) discard() bool {
	_ = c.ws.SetReadDeadline(time.Now().Add(servertest.Timeout))
	_, r, err := c.ws.NextReader()
	if err != nil {
		return false
	}
	var first [1]byte
	if _, err := io.ReadFull(r, first[:]); err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, r)
	return first[0] == '4'
}

// BenchmarkPublish measures the relay's publish path as case (c) of bench/run.sh exercises it:
// per operation one /relay "event" (about 200 bytes, as `pizzapi bench` sends) goes in, is
// acknowledged with "event_ack" and is delivered to the session's 10 viewers. B/op and
// allocs/op are the whole process's (the relay's plus the raw clients', which allocate almost
// nothing); per delivery is a tenth.
func BenchmarkPublish(b *testing.B) {
	const viewers = 10
	n := servertest.Start(b)
	u := n.NewUser(b)
	const id = "s-bench-publish"
	pub := dialBenchWS(b, n, "/relay", map[string]any{"apiKey": u.APIKey})
	pub.send([]byte(`42/relay,0["register",{"sessionId":"` + id + `","cwd":"/home/ada/project"}]`))
	var reg relay.Registered
	for {
		p := pub.next()
		if rest, ok := strings.CutPrefix(p, "43/relay,0["); ok {
			if err := reg.UnmarshalJSON([]byte(strings.TrimSuffix(rest, "]"))); err != nil {
				b.Fatalf("%s: %v", p, err)
			}
			break
		}
	}
	var received atomic.Int64
	for range viewers {
		v := dialBenchWS(b, n, "/viewer", map[string]any{"apiKey": u.APIKey, "sessionId": id})
		go func() {
			for v.discard() {
				received.Add(1)
			}
		}()
	}
	// The viewers' connected event and snapshot are counted too: wait for them to settle.
	time.Sleep(200 * time.Millisecond)
	base := received.Load()

	pad := strings.Repeat("x", 120)
	prefix := `42/relay,["event",{"sessionId":"` + reg.SessionID + `","token":"` + reg.Token + `","seq":`
	pkt := make([]byte, 0, 512)
	ack := func() {
		for {
			_ = pub.ws.SetReadDeadline(time.Now().Add(servertest.Timeout))
			_, r, err := pub.ws.NextReader()
			if err != nil {
				b.Fatal(err)
			}
			var head [16]byte
			k, _ := io.ReadFull(r, head[:])
			_, _ = io.Copy(io.Discard, r)
			if strings.HasPrefix(string(head[:k]), `42/relay,["event`) {
				return
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		pkt = append(pkt[:0], prefix...)
		pkt = strconv.AppendInt(pkt, int64(i+1), 10)
		pkt = append(pkt, `,"event":{"type":"bench","m":1,"ts":`...)
		pkt = strconv.AppendInt(pkt, time.Now().UnixNano(), 10)
		pkt = append(pkt, `,"pad":"`+pad+`"}}]`...)
		pub.send(pkt)
		ack()
	}
	want := base + int64(b.N*viewers)
	for deadline := time.Now().Add(servertest.Timeout); received.Load() < want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("viewers received %d of %d events", received.Load()-base, b.N*viewers)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*viewers), "ns/delivery")
}
