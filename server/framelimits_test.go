package server_test

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// rawWS is a websocket client speaking Engine.IO and Socket.IO by hand, to send what no
// Socket.IO client would.
type rawWS struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, n *servertest.Node) *rawWS {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(n.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	c := &rawWS{t: t, ws: ws}
	if open := c.next(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}
	return c
}

func (c *rawWS) next() string {
	c.t.Helper()
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(servertest.Timeout))
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if string(b) != "2" {
			return string(b)
		}
		c.send("3")
	}
}

func (c *rawWS) send(pkt string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(pkt)); err != nil {
		c.t.Fatal(err)
	}
}

// announce writes only the header of a masked text frame of n bytes (zero mask) and one byte.
func (c *rawWS) announce(n int) {
	c.t.Helper()
	h := []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '4'}
	binary.BigEndian.PutUint64(h[2:], uint64(n))
	if _, err := c.ws.NetConn().Write(h); err != nil {
		c.t.Fatal(err)
	}
}

// closeCode returns the status of the close frame that ends the connection.
func (c *rawWS) closeCode() int {
	c.t.Helper()
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(servertest.Timeout))
		if _, _, err := c.ws.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			c.t.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}

// TestMessageLimitsByAuthentication (issue 9.1): a connection with no authenticated socket is
// held to a small limit, on websocket (closed with 1009 as soon as a frame header announces
// more, before any of it is read) and on polling (413); a refused namespace CONNECT does not
// raise it; an authenticated /relay socket may send up to --max-message-bytes (and gets an error
// event above it), a viewer up to 1 MiB.
func TestMessageLimitsByAuthentication(t *testing.T) {
	n := servertest.Start(t, func(c *config.Config) { c.MaxMessageBytes = 1 << 20 })
	u := n.NewUser(t)

	c := dialRaw(t, n)
	c.announce(50 << 20)
	if code := c.closeCode(); code != websocket.CloseMessageTooBig {
		t.Fatalf("unauthenticated 50 MiB frame: close %d, want 1009", code)
	}

	c = dialRaw(t, n)
	c.send(`40/relay,{"apiKey":"pzp_wrong"}`)
	if got := c.next(); !strings.HasPrefix(got, "44/relay,") {
		t.Fatalf("wrong key: %q", got)
	}
	c.announce(100 << 10)
	if code := c.closeCode(); code != websocket.CloseMessageTooBig {
		t.Fatalf("after a refused CONNECT: close %d, want 1009", code)
	}

	// Polling before authentication: a body over the small limit is refused.
	resp, err := http.Get(n.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	var open [512]byte
	m, _ := resp.Body.Read(open[:])
	resp.Body.Close()
	sid := strings.SplitN(strings.SplitN(string(open[:m]), `"sid":"`, 2)[1], `"`, 2)[0]
	resp, err = http.Post(n.URL+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader("4"+strings.Repeat("x", 100<<10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("unauthenticated polling body: status %d, want 413", resp.StatusCode)
	}

	// An authenticated /relay socket: 1.5 MiB passes the transport and is refused by the
	// application with an error event; the connection stays open.
	c = dialRaw(t, n)
	c.send(`40/relay,{"apiKey":"` + u.APIKey + `"}`)
	if got := c.next(); !strings.HasPrefix(got, "40/relay,{") {
		t.Fatalf("relay connect: %q", got)
	}
	c.send(`42/relay,["event",{"sessionId":"s","token":"` + strings.Repeat("x", 3<<19) + `"}]`)
	for {
		got := c.next()
		if strings.HasPrefix(got, `42/relay,["error"`) {
			if !strings.Contains(got, "message too large") {
				t.Fatalf("relay error: %.200s", got)
			}
			break
		}
	}

	// A viewer may send messages up to about 1 MiB, not 1.5.
	c = dialRaw(t, n)
	c.send(`40/viewer,{"apiKey":"` + u.APIKey + `","sessionId":"none"}`)
	for got := c.next(); !strings.HasPrefix(got, "40/viewer,{"); got = c.next() {
		if strings.HasPrefix(got, "44/") {
			t.Fatalf("viewer connect: %q", got)
		}
	}
	c.announce(3 << 19)
	if code := c.closeCode(); code != websocket.CloseMessageTooBig {
		t.Fatalf("viewer 1.5 MiB frame: close %d, want 1009", code)
	}
}
