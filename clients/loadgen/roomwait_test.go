//go:build unix

package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// bigWrite is more than a loopback connection's send and receive buffers hold together, so that
// writing it to a peer that does not read has to wait for room.
const bigWrite = 64 << 20

// roomPair returns a roomConn dialled to a loopback listener and the accepted end.
func roomPair(t *testing.T) (*roomConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := dialRoomConn(context.Background(), &net.Dialer{}, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); peer.Close() })
	return c.(*roomConn), peer
}

// TestRoomConnCountsTheWaitForRoom: a write larger than the socket buffers completes once the
// peer reads, whole, and the time it waited for the peer is counted; a write that never had to
// wait counts nothing.
func TestRoomConnCountsTheWaitForRoom(t *testing.T) {
	c, peer := roomPair(t)
	if _, err := c.Write([]byte("small")); err != nil {
		t.Fatal(err)
	}
	if w := c.RoomWait(); w != 0 {
		t.Fatalf("a write the socket took at once waited %v", w)
	}
	got := make(chan int64, 1)
	go func() {
		// Read only once the writer has filled the buffers and waits: a peer that reads from
		// the start may keep room free for every write.
		deadline := time.Now().Add(30 * time.Second)
		for c.waits.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		n, _ := io.Copy(io.Discard, peer)
		got <- n
	}()
	n, err := c.Write(make([]byte, bigWrite))
	if err != nil || n != bigWrite {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, bigWrite)
	}
	if w := c.RoomWait(); w <= 0 {
		t.Fatalf("a write larger than the socket buffers counted no wait for room (%v)", w)
	}
	c.Close()
	if n := <-got; n != bigWrite+int64(len("small")) {
		t.Fatalf("the peer read %d bytes, want %d", n, bigWrite+len("small"))
	}
}

// TestRoomConnDeadlineAndClose: a write waiting for a peer that never reads ends with the write
// deadline, or when the connection is closed.
func TestRoomConnDeadlineAndClose(t *testing.T) {
	c, _ := roomPair(t)
	if err := c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(make([]byte, bigWrite)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write past the deadline: %v, want a deadline error", err)
	}

	c2, _ := roomPair(t)
	done := make(chan error, 1)
	go func() {
		_, err := c2.Write(make([]byte, bigWrite))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // the write fills the buffers and waits (or has not begun)
	c2.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write on a closed connection: %v, want net.ErrClosed", err)
	}
}
