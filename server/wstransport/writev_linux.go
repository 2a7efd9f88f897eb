package wstransport

import (
	"fmt"
	"net"
	"sync"
	"syscall"
	"unsafe"
)

// rawConnOf returns the connection's file descriptor access when it is a socket the pool's
// writers can write to without waiting (writeNow), else nil; it bounds the bytes the socket keeps
// unsent (limitUnsent), and reports when it could not, with the socket usable all the same.
func rawConnOf(c net.Conn) (syscall.RawConn, error) {
	sc, ok := c.(*net.TCPConn)
	if !ok {
		return nil, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, nil
	}
	return rc, limitUnsent(rc)
}

// writev is one writer's state for writeNow: the vector it hands to writev and the result of the
// call. do is bound once, when the writev is made, so that a write allocates nothing (a closure
// over the vector and the results, passed to RawConn.Write, escaped on every call).
type writev struct {
	iov   []syscall.Iovec
	n     int
	errno syscall.Errno
	do    func(fd uintptr) bool
}

// writevPool holds the writevs of writeNow, their vectors maxBatch long.
var writevPool = sync.Pool{New: func() any {
	w := &writev{iov: make([]syscall.Iovec, 0, maxBatch)}
	w.do = w.call
	return w
}}

// call runs writev on fd with the vector, retrying when interrupted; it is RawConn.Write's
// function.
func (w *writev) call(fd uintptr) bool {
	for {
		r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&w.iov[0])), uintptr(len(w.iov)))
		if e != syscall.EINTR {
			w.n, w.errno = int(r), e
			return true
		}
	}
}

// writeNow writes the frames, the first from byte off, as far as the socket takes them without
// waiting: one writev for up to maxBatch frames. It returns how many frames went out whole and
// how many bytes of the next one; fewer than all of them means the socket buffer is full.
func writeNow(rc syscall.RawConn, frames []*[]byte, off int) (done, part int, err error) {
	w := writevPool.Get().(*writev)
	defer func() {
		clear(w.iov)
		w.iov = w.iov[:0]
		writevPool.Put(w)
	}()
	for done < len(frames) {
		w.iov = w.iov[:0]
		want := 0
		for i, f := range frames[done:min(len(frames), done+maxBatch)] {
			b := *f
			if i == 0 {
				b = b[off:]
			}
			if len(b) == 0 {
				continue
			}
			w.iov = append(w.iov, syscall.Iovec{Base: &b[0]})
			w.iov[len(w.iov)-1].SetLen(len(b))
			want += len(b)
		}
		n := 0
		if len(w.iov) > 0 {
			w.n, w.errno = 0, 0
			werr := rc.Write(w.do)
			switch {
			case werr != nil:
				return done, off, werr
			case w.errno == syscall.EAGAIN:
				return done, off, nil
			case w.errno != 0:
				return done, off, fmt.Errorf("writev: %w", w.errno)
			}
			n = w.n
		}
		for rest := n; done < len(frames); {
			left := len(*frames[done]) - off
			if rest < left {
				off += rest
				break
			}
			rest -= left
			done, off = done+1, 0
		}
		if n < want {
			return done, off, nil // the socket buffer is full
		}
	}
	return done, 0, nil
}
