package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/servertest"
)

type received struct {
	name, payload string
}

// record returns an OnEvent that sends copies of the events to a channel.
func record() (func(name, payload []byte), chan received) {
	ch := make(chan received, 100)
	return func(name, payload []byte) {
		ch <- received{string(name), string(payload)}
	}, ch
}

func next(t *testing.T, ch chan received, name string) received {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", name)
		}
	}
}

// TestConnRelayAndViewer: a publisher and a viewer, the viewer's session started on the
// websocket and on polling (upgraded to the websocket before the namespace CONNECT).
func TestConnRelayAndViewer(t *testing.T) {
	n := servertest.Start(t)
	t.Run("websocket", func(t *testing.T) { testConnRelayAndViewer(t, n, "s-conn-test", false) })
	t.Run("polling", func(t *testing.T) { testConnRelayAndViewer(t, n, "s-conn-poll", true) })
}

func testConnRelayAndViewer(t *testing.T, n *servertest.Node, sid string, polling bool) {
	u := n.NewUser(t)
	ctx := context.Background()

	onRelay, relayEvents := record()
	cli, err := Dial(ctx, DialOptions{URL: n.URL, Namespace: "/relay", Auth: fmt.Appendf(nil, `{"apiKey":%q}`, u.APIKey), OnEvent: onRelay, MeasureRoomWait: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, ok := cli.RoomWait(); !ok {
		t.Fatal("a connection dialled with MeasureRoomWait does not measure it")
	}
	if err := cli.Emit("register", []byte(fmt.Appendf(nil, `{"sessionId":%q,"cwd":"/tmp"}`, sid))); err != nil {
		t.Fatal(err)
	}
	reg := next(t, relayEvents, "registered")
	token, ok := stringField([]byte(reg.payload), keyToken)
	if !ok || len(token) != 64 {
		t.Fatalf("registered: %s", reg.payload)
	}

	onViewer, viewerEvents := record()
	v, err := Dial(ctx, DialOptions{URL: n.URL, Namespace: "/viewer", Auth: fmt.Appendf(nil, `{"apiKey":%q,"sessionId":%q}`, u.APIKey, sid), OnEvent: onViewer, Polling: polling})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	hello := next(t, viewerEvents, "connected")
	if last, ok := intField([]byte(hello.payload), keyLastSeq); !ok || last != 0 {
		t.Fatalf("connected: %s", hello.payload)
	}

	inner := `{"type":"bench","m":1,"ts":12345,"pad":"xx \"quoted\" \u00e9"}`
	if err := cli.Emit("event", fmt.Appendf(nil, `{"sessionId":%q,"token":%q,"seq":1,"event":%s}`, sid, token, inner)); err != nil {
		t.Fatal(err)
	}
	ack := next(t, relayEvents, "event_ack")
	if seq, _ := intField([]byte(ack.payload), keySeq); seq != 1 {
		t.Errorf("event_ack: %s", ack.payload)
	}
	ev := next(t, viewerEvents, "event")
	if !bytes.Contains([]byte(ev.payload), []byte(`"event":`+inner)) {
		t.Errorf("inner event not passed through byte for byte: %s", ev.payload)
	}
	if seq, _ := lastIntField([]byte(ev.payload), keySeq); seq != 1 {
		t.Errorf("event: %s", ev.payload)
	}

	// A bad token gets an error event; the connection stays up.
	if err := cli.Emit("event", fmt.Appendf(nil, `{"sessionId":%q,"token":"nope","event":{"type":"x"}}`, sid)); err != nil {
		t.Fatal(err)
	}
	next(t, relayEvents, "error")
	if cli.Err() != nil {
		t.Fatal(cli.Err())
	}

	v.Close()
	v.Close()
	if !errors.Is(v.Err(), ErrClosed) {
		t.Errorf("after Close: %v", v.Err())
	}
}

func TestConnRefused(t *testing.T) {
	n := servertest.Start(t)
	_, err := Dial(context.Background(), DialOptions{URL: n.URL, Namespace: "/relay", Auth: []byte(`{"apiKey":"pzp_wrong"}`)})
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Message != "unauthorized" {
		t.Fatalf("got %v", err)
	}
	if _, err := Dial(context.Background(), DialOptions{URL: "ftp://127.0.0.1:1"}); err == nil {
		t.Fatal("bad scheme accepted")
	}
}

func TestServerDisconnect(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	onViewer, viewerEvents := record()
	// A session that does not exist: the relay says so and closes the namespace.
	v, err := Dial(context.Background(), DialOptions{URL: n.URL, Namespace: "/viewer", Auth: fmt.Appendf(nil, `{"apiKey":%q,"sessionId":"nope"}`, u.APIKey), OnEvent: onViewer})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	next(t, viewerEvents, "error")
	select {
	case <-v.Done():
		if !errors.Is(v.Err(), ErrServerDisconnect) {
			t.Errorf("got %v", v.Err())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not disconnected")
	}
}

func TestRegister(t *testing.T) {
	n := servertest.Start(t)
	key, err := Register(context.Background(), n.URL, "bench@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(context.Background(), DialOptions{URL: n.URL, Namespace: "/relay", Auth: fmt.Appendf(nil, `{"apiKey":%q}`, key)})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := Register(context.Background(), n.URL, "bench@example.com", "wrong password!"); err == nil {
		t.Fatal("wrong password accepted")
	}
}
