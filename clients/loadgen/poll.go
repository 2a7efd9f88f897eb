package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

var (
	keySid      = []byte(`"sid":`)
	probePing   = []byte{eioPing, 'p', 'r', 'o', 'b', 'e'}
	probePong   = []byte{eioPong, 'p', 'r', 'o', 'b', 'e'}
	upgradePkt  = []byte{eioUpgrade}
	maxOpenBody = int64(4 << 10)
)

// pollOpen starts an Engine.IO session on HTTP long-polling (the handshake GET) and returns its
// open packet and session id. wsURL is the session's websocket URL (see engineURL); dial, when
// set, dials the connection.
func pollOpen(ctx context.Context, wsURL string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (open []byte, sid string, err error) {
	u := "http" + strings.TrimPrefix(strings.Replace(wsURL, "transport=websocket", "transport=polling", 1), "ws")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fmt.Errorf("loadgen: polling handshake: %w", err)
	}
	tr := &http.Transport{DialContext: dial, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("loadgen: polling handshake %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOpenBody))
	if err != nil {
		return nil, "", fmt.Errorf("loadgen: polling handshake %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("loadgen: polling handshake %s: %s: %.200q", u, resp.Status, body)
	}
	// A polling response may carry several packets separated by the record separator; the open
	// packet comes first.
	if i := bytes.IndexByte(body, 0x1e); i >= 0 {
		body = body[:i]
	}
	if len(body) == 0 || body[0] != eioOpen {
		return nil, "", fmt.Errorf("loadgen: polling handshake: expected an open packet, got %.40q", body)
	}
	if sid, ok := stringField(body, keySid); ok && sid != "" {
		return body, sid, nil
	}
	return nil, "", fmt.Errorf("loadgen: polling handshake: open packet without a session id: %.200q", body)
}

// upgrade moves a session that started on polling to the websocket it dialed with the session's
// id: it sends the probe, waits for its answer and sends the upgrade packet.
func (c *Conn) upgrade() error {
	if err := c.write(probePing); err != nil {
		return fmt.Errorf("loadgen: upgrade probe: %w", err)
	}
	var buf []byte
	var err error
	for {
		if buf, err = c.read(buf); err != nil {
			return fmt.Errorf("loadgen: waiting for the probe's answer: %w", err)
		}
		if bytes.Equal(buf, probePong) {
			break
		}
		if len(buf) > 0 && buf[0] == eioClose {
			return ErrEngineClosed
		}
	}
	if err := c.write(upgradePkt); err != nil {
		return fmt.Errorf("loadgen: upgrade: %w", err)
	}
	return nil
}
