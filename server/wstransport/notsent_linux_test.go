package wstransport

import (
	"bytes"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// kernelQueue returns the bytes the socket's kernel holds that TCP has not sent yet, and all it
// holds (SIOCOUTQ: unsent and unacknowledged).
func kernelQueue(t *testing.T, c net.Conn) (unsent, queued int) {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	var ierr, qerr error
	if err := rc.Control(func(fd uintptr) {
		info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		queued, qerr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
	}); err != nil {
		t.Fatal(err)
	}
	if ierr != nil || qerr != nil {
		t.Fatal(ierr, qerr)
	}
	return int(info.Notsent_bytes), queued
}

// cpuTime returns the CPU time the process has used.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestUnsentStaysInBacklog: once a client stops reading, the relay's kernel keeps at most about
// maxUnsent bytes unsent on its connection (TCP_NOTSENT_LOWAT; one write may overshoot the mark
// by a segment), however large the send buffer grew while the client read fast, and the rest
// waits in the transport's backlog, past the default backlog limit of 512 KiB, with the write
// reported blocked. The blocked writer waits in poll, not in a loop of writes: it uses almost no
// CPU. When the client reads again it gets everything in order and the backlog empties.
func TestUnsentStaysInBacklog(t *testing.T) {
	server, client := tcpPair(t)
	w := testTransport(server)
	// The overshoot: the kernel checks the mark before it queues each segment, and a segment on
	// loopback carries up to 64 KiB.
	const slack = 64 << 10

	// A client that reads fast lets the kernel grow the send buffer (on loopback to
	// net.ipv4.tcp_wmem's maximum, 4 MiB by default) and its own receive buffer.
	var want bytes.Buffer
	n := 0
	for range 4 {
		var burst bytes.Buffer
		for range 256 {
			f := numbered(n, 8<<10)
			n++
			burst.Write(f.wire)
			w.WriteFrame(f)
		}
		got := make([]byte, burst.Len())
		if _, err := io.ReadFull(client, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, burst.Bytes()) {
			t.Fatal("frames arrived out of order while the client read")
		}
	}
	waitIdle(t, w)

	// The client reads nothing from here on.
	maxUnsentSeen, maxQueued := 0, 0
	deadline := time.Now().Add(time.Minute)
	for {
		for range 16 {
			f := numbered(n, 8<<10)
			n++
			want.Write(f.wire)
			w.WriteFrame(f)
		}
		unsent, queued := kernelQueue(t, server)
		maxUnsentSeen, maxQueued = max(maxUnsentSeen, unsent), max(maxQueued, queued)
		if unsent > maxUnsent+slack {
			t.Fatalf("the kernel holds %d bytes unsent, the mark is %d", unsent, maxUnsent)
		}
		if backlog, blocked, _ := w.Backlog(); backlog > 1<<20 && blocked > 0 {
			break
		}
		if time.Now().After(deadline) {
			backlog, _, _ := w.Backlog()
			t.Fatalf("backlog %d after %d bytes to a client that reads nothing", backlog, want.Len())
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("client stopped: %d bytes written, relay kernel unsent max %d, SIOCOUTQ max %d", want.Len(), maxUnsentSeen, maxQueued)

	// No busy loop: while blocked for 300 ms the process uses a fraction of it (a loaded machine
	// only lowers that). The client's kernel may still take some of what is in flight meanwhile
	// (its receive buffer grew while it read), which lets the writer on for a while.
	before := cpuTime(t)
	time.Sleep(300 * time.Millisecond)
	if used := cpuTime(t) - before; used > 150*time.Millisecond {
		t.Fatalf("the blocked writer used %v of CPU in 300 ms", used)
	}

	got := make([]byte, want.Len())
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("frames arrived out of order or incomplete after the stall")
	}
	waitIdle(t, w)
	if backlog, blocked, _ := w.Backlog(); backlog != 0 || blocked != 0 {
		t.Fatalf("backlog %d, blocked %v after everything was read", backlog, blocked)
	}
}
