//go:build !linux

package wstransport

import (
	"errors"
	"net"
	"syscall"
)

// rawConnOf returns nil: outside Linux every connection has a writer goroutine of its own, and
// the kernel keeps as much unsent as its send buffer takes.
func rawConnOf(net.Conn) (syscall.RawConn, error) { return nil, nil }

// writeNow is not used outside Linux (rawConnOf returns nil).
func writeNow(syscall.RawConn, []*[]byte, int) (done, part int, err error) {
	return 0, 0, errors.ErrUnsupported
}
