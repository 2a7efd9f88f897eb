//go:build !unix

package loadgen

import (
	"context"
	"net"
)

// dialRoomConn dials a plain connection: without poll(2) the time a write waits for room is not
// told apart from the time the writer then waits for a processor.
func dialRoomConn(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	return d.DialContext(ctx, network, addr)
}
