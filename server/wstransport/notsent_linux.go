package wstransport

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxUnsent is the most bytes a connection's kernel send queue holds that TCP has not sent yet
// (TCP_NOTSENT_LOWAT). Past it, writev returns EAGAIN and the socket polls not writable, so what
// a slow client has not taken stays in the transport's queue, where the per-client backlog limit
// and the shedding of the furthest-behind viewers see it (Backlog). Without it the kernel
// autotunes the send buffer up to net.ipv4.tcp_wmem's maximum (4 MiB by default) and a client
// that reads too slowly hides seconds of events there: 4.2 MB unsent per viewer connection in
// case (e) of bench/run.sh, 40 GB for 10,000 viewers.
//
// Only unsent data is bounded: bytes in flight (sent, not yet acknowledged) still grow with the
// autotuned buffer, so a client far away keeps its bandwidth-delay product in flight. 128 KiB
// is a quarter of the default backlog limit (--max-backlog-bytes, 512 KiB), so the kernel hides
// little of what the limit counts, and at the 2.4 MB/s a viewer takes at twice saturation it is
// 50 ms of events, ample time for a writer's turn to refill it: the kernel wakes the writer when
// the unsent bytes fall under half the mark. Larger marks hide more from the limit; smaller
// ones cost more writes per byte to a client that takes bulk data fast.
const maxUnsent = 128 << 10

// limitUnsent bounds the socket's unsent bytes to maxUnsent.
func limitUnsent(rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, maxUnsent)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("set TCP_NOTSENT_LOWAT: %w", err)
	}
	return nil
}
