package wstransport

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3/transports"
)

// tcpPair returns both ends of a loopback TCP connection, closed when the test ends.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.Close()
		_ = server.Close()
	})
	return server, client
}

func testTransport(conn net.Conn) *transport {
	w := &transport{
		Transport: transports.MakeTransport(),
		opts:      &Options{WriteTimeout: time.Minute, Logger: slog.New(slog.DiscardHandler)},
		conn:      conn,
	}
	w.Prototype(w)
	return w
}

// waitIdle waits until the connection has no writer and nothing queued.
func waitIdle(t *testing.T, w *transport) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		w.mu.Lock()
		idle := !w.writing && w.queue == nil
		w.mu.Unlock()
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer never finished")
		}
		time.Sleep(time.Millisecond)
	}
}

// numbered returns a frame whose payload is n followed by pad bytes.
func numbered(n, pad int) *Frame {
	return NewFrame(pad+16, func(dst []byte) []byte {
		dst = strconv.AppendInt(dst, int64(n), 10)
		return append(dst, bytes.Repeat([]byte{'.'}, pad)...)
	})
}

// TestPoolOrderPerConnection: frames queued round-robin on many connections by one goroutine,
// as fan-out does, reach each client complete and in order, and every connection ends idle.
func TestPoolOrderPerConnection(t *testing.T) {
	const conns, frames = 20, 400
	ws := make([]*transport, conns)
	want := make([]bytes.Buffer, conns)
	got := make([][]byte, conns)
	var wg sync.WaitGroup
	for i := range ws {
		server, client := tcpPair(t)
		ws[i] = testTransport(server)
		wg.Go(func() { got[i], _ = io.ReadAll(client) })
	}
	for n := range frames {
		for i, w := range ws {
			f := numbered(n, (n*7+i*13)%300)
			want[i].Write(f.wire)
			if !w.WriteFrame(f) {
				t.Fatal("WriteFrame reported a closed connection")
			}
		}
	}
	for _, w := range ws {
		waitIdle(t, w)
		_ = w.conn.Close()
	}
	wg.Wait()
	for i := range ws {
		if !bytes.Equal(got[i], want[i].Bytes()) {
			t.Fatalf("connection %d: received %d bytes, want %d in order", i, len(got[i]), want[i].Len())
		}
	}
}

// TestPoolStalledConnection: a client that stops reading does not hold the pool's writers: once
// its socket buffers are full, its connection reports a blocked write and a backlog while
// another connection is written to as usual; when the client reads again it gets everything in
// order (the write the socket took in part goes on where it stopped), and the connection goes
// back to the pool.
func TestPoolStalledConnection(t *testing.T) {
	stalledServer, stalledClient := tcpPair(t)
	fastServer, fastClient := tcpPair(t)
	stalled, fast := testTransport(stalledServer), testTransport(fastServer)

	var want bytes.Buffer
	n := 0
	deadline := time.Now().Add(time.Minute)
	for {
		// 1 KiB frames counted in the backlog, until the socket buffers are full.
		for range 256 {
			f := numbered(n, 1000)
			n++
			want.Write(f.wire)
			stalled.WriteFrame(f)
		}
		if backlog, blocked, _ := stalled.Backlog(); backlog > 0 && blocked > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes to a client that reads nothing never blocked")
		}
		time.Sleep(time.Millisecond)
	}

	var wantFast bytes.Buffer
	for i := range 1000 {
		f := numbered(i, 100)
		wantFast.Write(f.wire)
		fast.WriteFrame(f)
	}
	gotFast := make([]byte, wantFast.Len())
	if _, err := io.ReadFull(fastClient, gotFast); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotFast, wantFast.Bytes()) {
		t.Fatal("the other connection's frames arrived out of order")
	}
	if _, blocked, _ := stalled.Backlog(); blocked == 0 {
		t.Fatal("the stalled connection's write ended while its client read nothing")
	}

	got := make([]byte, want.Len())
	if _, err := io.ReadFull(stalledClient, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("the stalled connection's frames arrived out of order or incomplete")
	}
	waitIdle(t, stalled)
	if backlog, blocked, _ := stalled.Backlog(); backlog != 0 || blocked != 0 {
		t.Fatalf("backlog %d, blocked %v after everything was read", backlog, blocked)
	}
	// Back in the pool, with no deadline left over from the blocked write.
	f := numbered(n, 10)
	stalled.WriteFrame(f)
	last := make([]byte, len(f.wire))
	if _, err := io.ReadFull(stalledClient, last); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(last, f.wire) {
		t.Fatal("the frame after the stall arrived wrong")
	}
}

// TestPoolTurns: connections wait for a writer in the order they were put in line, a connection
// put back after its turn comes after the others, and the line does not grow without bound
// under sustained load.
func TestPoolTurns(t *testing.T) {
	p := &pool{} // no writer ever starts: the test takes the turns
	ts := make([]*transport, 3)
	for i := range ts {
		ts[i] = &transport{}
		p.push(ts[i])
	}
	for round := range 3000 {
		for i := range ts {
			got, ok := p.next()
			if !ok || got != ts[(i+round)%len(ts)] {
				t.Fatalf("round %d: turn %d went to the wrong connection", round, i)
			}
			p.push(got) // more was queued: back at the end of the line
		}
		// Rotate which connection starts the next round.
		first, _ := p.next()
		p.push(first)
	}
	if cap(p.ready) > 4096 {
		t.Fatalf("the line holds room for %d connections after 3 connections took turns", cap(p.ready))
	}
}
