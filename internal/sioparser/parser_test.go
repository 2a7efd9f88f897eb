package sioparser

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

func decodeOne(t *testing.T, opts Options, frame string) (*parser.Packet, error) {
	t.Helper()
	d := New(opts).NewDecoder()
	var got *parser.Packet
	_ = d.On("decoded", func(a ...any) { got = a[0].(*parser.Packet) })
	err := d.Add(types.NewStringBuffer([]byte(frame)))
	return got, err
}

func TestDecodeEventKeepsRawArguments(t *testing.T) {
	p, err := decodeOne(t, Options{}, `2/relay,12["event", {"a": [1, 2.50]}, "x"]`)
	if err != nil {
		t.Fatal(err)
	}
	if p.Nsp != "/relay" || p.Id == nil || *p.Id != 12 || p.Type != parser.EVENT {
		t.Fatalf("header: %+v", p)
	}
	want := []any{"event", json.RawMessage(`{"a": [1, 2.50]}`), json.RawMessage(`"x"`)}
	if !reflect.DeepEqual(p.Data, want) {
		t.Fatalf("data %#v", p.Data)
	}
	p, _ = decodeOne(t, Options{StringsAsGo: true}, `2["ev","off\"set"]`)
	if !reflect.DeepEqual(p.Data, []any{"ev", "off\"set"}) || p.Nsp != "/" {
		t.Fatalf("strings as Go: %#v", p.Data)
	}
}

func TestDecodeAck(t *testing.T) {
	p, err := decodeOne(t, Options{}, `3/viewer,7[{"ok":true}]`)
	if err != nil || p.Type != parser.ACK || *p.Id != 7 || string(p.Data.([]any)[0].(json.RawMessage)) != `{"ok":true}` {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestDecodeRejectsBadFrames(t *testing.T) {
	for _, f := range []string{`2`, `2/relay`, `2[]`, `2[1,{}]`, `2["connect",{}]`, `2["ev",{]`, `2["ev"] x`, "2[\"ev\",\"\xff\"]", `2123456789012345678901["e"]`} {
		if _, err := decodeOne(t, Options{}, f); err == nil {
			t.Errorf("accepted %q", f)
		}
	}
}

func TestConnectStillDecodesAuthAsMap(t *testing.T) {
	p, err := decodeOne(t, Options{}, `0/relay,{"apiKey":"k"}`)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := p.Data.(map[string]any); !ok || m["apiKey"] != "k" {
		t.Fatalf("auth %#v", p.Data)
	}
}

func TestEncode(t *testing.T) {
	id := uint64(3)
	bufs := New(Options{}).NewEncoder().Encode(&parser.Packet{Type: parser.ACK, Nsp: "/relay", Id: &id, Data: []any{json.RawMessage(`{"ok": true}`)}})
	if len(bufs) != 1 || bufs[0].String() != `3/relay,3[{"ok": true}]` {
		t.Fatalf("ack: %v", bufs)
	}
	bufs = New(Options{}).NewEncoder().Encode(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"ev", json.RawMessage(`1`), "off", map[string]any{"k": 1}}})
	if bufs[0].String() != `2["ev",1,"off",{"k":1}]` {
		t.Fatalf("event: %s", bufs[0].String())
	}
	if got := string(AppendEvent(nil, "/viewer", "event", []byte(`{"seq":1}`))); got != `2/viewer,["event",{"seq":1}]` {
		t.Fatalf("AppendEvent: %s", got)
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	frame := []byte(`2/relay,["event",{"sessionId":"4f9c2d4e-6a1b-4c1d-9a55-3e1f0b7c9d21","token":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","seq":1234,"event":{"type":"message_update","assistantMessageEvent":{"type":"text_delta","contentIndex":1,"delta":"fox "}}}]`)
	d := New(Options{}).NewDecoder()
	_ = d.On("decoded", func(...any) {})
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Add(types.NewStringBuffer(frame)); err != nil {
			b.Fatal(err)
		}
	}
}
