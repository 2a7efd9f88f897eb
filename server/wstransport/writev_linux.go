package wstransport

import (
	"fmt"
	"net"
	"sync"
	"syscall"
	"unsafe"
)

// rawConnOf returns the connection's file descriptor access when it is a socket the pool's
// writers can write to without waiting (writeNow), else nil.
func rawConnOf(c net.Conn) syscall.RawConn {
	sc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// iovecPool holds the vectors writeNow hands to writev, maxBatch long.
var iovecPool = sync.Pool{New: func() any { v := make([]syscall.Iovec, 0, maxBatch); return &v }}

// writeNow writes the frames, the first from byte off, as far as the socket takes them without
// waiting: one writev for up to maxBatch frames. It returns how many frames went out whole and
// how many bytes of the next one; fewer than all of them means the socket buffer is full.
func writeNow(rc syscall.RawConn, frames []*[]byte, off int) (done, part int, err error) {
	vec := iovecPool.Get().(*[]syscall.Iovec)
	defer func() {
		clear(*vec)
		*vec = (*vec)[:0]
		iovecPool.Put(vec)
	}()
	for done < len(frames) {
		iov := (*vec)[:0]
		want := 0
		for i, f := range frames[done:min(len(frames), done+maxBatch)] {
			b := *f
			if i == 0 {
				b = b[off:]
			}
			if len(b) == 0 {
				continue
			}
			iov = append(iov, syscall.Iovec{Base: &b[0]})
			iov[len(iov)-1].SetLen(len(b))
			want += len(b)
		}
		*vec = iov
		n := 0
		if len(iov) > 0 {
			var errno syscall.Errno
			werr := rc.Write(func(fd uintptr) bool {
				for {
					r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
					if e != syscall.EINTR {
						n, errno = int(r), e
						return true
					}
				}
			})
			switch {
			case werr != nil:
				return done, off, werr
			case errno == syscall.EAGAIN:
				return done, off, nil
			case errno != 0:
				return done, off, fmt.Errorf("writev: %w", errno)
			}
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
