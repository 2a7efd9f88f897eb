//go:build unix

package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pollSlice bounds one wait in poll(2), so that a closed connection or a passed deadline is
// noticed within it.
const pollSlice = 100 * time.Millisecond

// roomConn is a TCP connection whose writes wait for room in the socket's send buffer in
// poll(2), on the writing goroutine's thread, instead of parking the goroutine in Go's network
// poller. The time spent there (RoomWait) is then only the time the peer took to make room,
// that is to read what was sent before (on loopback the send buffer fills when the peer's
// receive buffer is full): how long the relay held the writer back. A goroutine parked in the
// network poller, once the socket is writable again, would also wait for a processor, which on a
// load generator busy with a thousand readers on one core can take far longer than the relay did.
type roomConn struct {
	*net.TCPConn
	raw      syscall.RawConn
	deadline atomic.Int64 // write deadline in Unix nanoseconds, 0 for none
	closed   atomic.Bool
	waited   atomic.Int64 // nanoseconds spent waiting for room, in all
	waits    atomic.Int64 // waits for room begun
}

// dialRoomConn dials a TCP connection whose writes count the time they wait for room.
func dialRoomConn(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("loadgen: raw connection: %w", err)
	}
	return &roomConn{TCPConn: tc, raw: raw}, nil
}

// RoomWait returns the time the connection's writes have waited for room so far.
func (c *roomConn) RoomWait() time.Duration { return time.Duration(c.waited.Load()) }

// SetWriteDeadline implements net.Conn.
func (c *roomConn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		c.deadline.Store(0)
	} else {
		c.deadline.Store(t.UnixNano())
	}
	return c.TCPConn.SetWriteDeadline(t)
}

// SetDeadline implements net.Conn.
func (c *roomConn) SetDeadline(t time.Time) error {
	if err := c.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.TCPConn.SetReadDeadline(t)
}

// Close implements net.Conn.
func (c *roomConn) Close() error {
	c.closed.Store(true)
	return c.TCPConn.Close()
}

// Write implements net.Conn: it writes all of b, waiting in poll(2) while the send buffer is full.
func (c *roomConn) Write(b []byte) (int, error) {
	n := 0
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		for n < len(b) && werr == nil {
			m, err := unix.Write(int(fd), b[n:])
			switch {
			case err == nil:
				n += m
			case errors.Is(err, unix.EINTR):
			case errors.Is(err, unix.EAGAIN):
				werr = c.waitRoom(int(fd))
			default:
				werr = err
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return n, &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	return n, nil
}

// waitRoom waits in poll(2) until the socket takes more, its write deadline passes or the
// connection is closed, and counts the time.
func (c *roomConn) waitRoom(fd int) error {
	c.waits.Add(1)
	start := time.Now()
	defer func() { c.waited.Add(int64(time.Since(start))) }()
	for {
		if c.closed.Load() {
			return net.ErrClosed
		}
		wait := pollSlice
		if d := c.deadline.Load(); d != 0 {
			left := time.Until(time.Unix(0, d))
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			wait = min(wait, left)
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(fds, int(max(1, wait.Milliseconds())))
		switch {
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return err
		case n > 0:
			return nil // writable, or an error the next write reports
		}
	}
}
