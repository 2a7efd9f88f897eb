package sioclient

import (
	"net/http"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
)

// Dialer connects Go clients to the relay's namespaces with the same settings for each: it
// implements protocol.Dialer for the namespaces' generated Dial functions.
type Dialer struct {
	// URL is the relay's base URL (http or https); ws URLs are accepted too.
	URL string
	// Header holds extra HTTP headers of the handshake (a Cookie, for example).
	Header http.Header
	// Reconnect, ReconnectDelay, ReconnectDelayMax and ConnectTimeout are as in Options.
	Reconnect         bool
	ReconnectDelay    time.Duration
	ReconnectDelayMax time.Duration
	ConnectTimeout    time.Duration
}

// Dial implements protocol.Dialer: the connection is a *Client, not started yet. A disconnect
// reported as serverClosed is Socket.IO's "io server disconnect", after which the client does not
// reconnect by itself.
func (d Dialer) Dial(nsp string, auth []byte, hooks protocol.Hooks, event func(name string, payload []byte)) (protocol.ClientConn, error) {
	c, err := New(Options{
		URL:               d.URL,
		Namespace:         nsp,
		Auth:              auth,
		Header:            d.Header,
		Reconnect:         d.Reconnect,
		ReconnectDelay:    d.ReconnectDelay,
		ReconnectDelayMax: d.ReconnectDelayMax,
		ConnectTimeout:    d.ConnectTimeout,
	}, Handler{
		OnConnect:      hooks.Connected,
		OnConnectError: hooks.ConnectFailed,
		OnDisconnect: func(reason string) {
			if hooks.Disconnected != nil {
				hooks.Disconnected(reason, reason == reasonServerDisconnect)
			}
		},
		OnEvent: event,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
