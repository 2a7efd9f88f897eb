package wstransport

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3/transports"
)

// TestWriterReleasesQueueWhenIdle: frames written in bursts separated by idle periods, and one
// burst larger than a writev batch, arrive complete and in order, on TCP (writev) and on another
// connection (copied into one buffer), and after each burst the connection holds no queue and
// no writer.
func TestWriterReleasesQueueWhenIdle(t *testing.T) {
	t.Run("tcp", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = ln.Close() }()
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		testWriter(t, server, client)
	})
	t.Run("pipe", func(t *testing.T) {
		server, client := net.Pipe()
		testWriter(t, server, client)
	})
}

func testWriter(t *testing.T, server, client net.Conn) {
	defer func() { _ = client.Close() }()
	defer func() { _ = server.Close() }()
	w := &transport{
		Transport: transports.MakeTransport(),
		opts:      &Options{WriteTimeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)},
		conn:      server,
	}
	w.Prototype(w)

	var want bytes.Buffer
	received := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(client)
		received <- b
	}()
	seq := 0
	for _, burst := range []int{1, 3, 1, 5*maxBatch + 7, 2, 1} {
		for range burst {
			f := NewFrame(8, func(dst []byte) []byte { return strconv.AppendInt(dst, int64(seq), 10) })
			seq++
			want.Write(f.wire)
			if !w.WriteFrame(f) {
				t.Fatal("WriteFrame reported a closed connection")
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			w.mu.Lock()
			idle := !w.writing && w.queue == nil
			w.mu.Unlock()
			if idle {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the writer never finished")
			}
			time.Sleep(time.Millisecond)
		}
		if n, _, _ := w.Backlog(); n != 0 {
			t.Fatalf("backlog %d after the writer finished", n)
		}
	}
	_ = server.Close()
	if got := <-received; !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("received %d bytes, want %d in order", len(got), want.Len())
	}
}
