package loadgen

import (
	"testing"
)

func TestParsePacket(t *testing.T) {
	tests := []struct {
		in   string
		typ  byte
		nsp  string
		id   int64
		data string
	}{
		{`0/viewer,{"sid":"abc"}`, sioConnect, "/viewer", -1, `{"sid":"abc"}`},
		{`0{"sid":"abc"}`, sioConnect, "/", -1, `{"sid":"abc"}`},
		{`2/viewer,["event",{"seq":1}]`, sioEvent, "/viewer", -1, `["event",{"seq":1}]`},
		{`2/relay,17["register",{}]`, sioEvent, "/relay", 17, `["register",{}]`},
		{`3/relay,17[{"ok":true}]`, sioAck, "/relay", 17, `[{"ok":true}]`},
		{`4/viewer,{"message":"unauthorized"}`, sioConnectError, "/viewer", -1, `{"message":"unauthorized"}`},
		{`1/viewer,`, sioDisconnect, "/viewer", -1, ``},
		{`1/viewer`, sioDisconnect, "/viewer", -1, ``},
		{`51-/viewer,["x",{"_placeholder":true,"num":0}]`, sioBinaryEvent, "/viewer", -1, `["x",{"_placeholder":true,"num":0}]`},
		{`2["hello"]`, sioEvent, "/", -1, `["hello"]`},
	}
	for _, tt := range tests {
		p, err := parsePacket([]byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if p.typ != tt.typ || string(p.nsp) != tt.nsp || p.id != tt.id || string(p.data) != tt.data {
			t.Errorf("%s: got typ %c nsp %q id %d data %q", tt.in, p.typ, p.nsp, p.id, p.data)
		}
	}
	for _, bad := range []string{"", "9", "5/viewer,[]", "2/relay,1234567890123456789012[]"} {
		if _, err := parsePacket([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSplitEvent(t *testing.T) {
	tests := []struct{ in, name, arg string }{
		{`["event",{"event":{"type":"x"},"seq":3}]`, "event", `{"event":{"type":"x"},"seq":3}`},
		{` [ "a\"b" , {"x":[1,2]} ] `, `a\"b`, `{"x":[1,2]}`},
		{`["ping"]`, "ping", ""},
		{`["two",1,2]`, "two", "1,2"},
	}
	for _, tt := range tests {
		name, arg, err := splitEvent([]byte(tt.in))
		if err != nil || string(name) != tt.name || string(arg) != tt.arg {
			t.Errorf("%s: got %q %q %v", tt.in, name, arg, err)
		}
	}
	for _, bad := range []string{`{}`, `[]`, `[1,2]`, `["open`, `["a" 1]`} {
		if _, _, err := splitEvent([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestFields(t *testing.T) {
	b := []byte(`{"event":{"type":"bench","m":1,"ts":123456789,"pad":"xx"},"seq": 42,"neg":-7,"f":1.5,"token":"ab\"c","tok2":"abc"}`)
	for _, tt := range []struct {
		key  string
		want int64
		ok   bool
	}{
		{`"seq":`, 42, true}, {`"ts":`, 123456789, true}, {`"m":`, 1, true}, {`"neg":`, -7, true},
		{`"f":`, 0, false}, {`"missing":`, 0, false}, {`"pad":`, 0, false},
	} {
		got, ok := intField(b, []byte(tt.key))
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: got %d %v", tt.key, got, ok)
		}
	}
	if s, ok := stringField(b, []byte(`"tok2":`)); !ok || s != "abc" {
		t.Errorf("tok2: %q %v", s, ok)
	}
	if s, ok := stringField(b, []byte(`"token":`)); !ok || s != `ab\"c` {
		t.Errorf("token: %q %v", s, ok)
	}
	if _, ok := stringField(b, []byte(`"seq":`)); ok {
		t.Error("seq is not a string")
	}
}

func TestAppendEventPacket(t *testing.T) {
	if got := string(appendEventPacket(nil, "/relay", "event", []byte(`{"a":1}`))); got != `42/relay,["event",{"a":1}]` {
		t.Errorf("got %s", got)
	}
	if got := string(appendEventPacket(nil, "/", "hello", nil)); got != `42["hello"]` {
		t.Errorf("got %s", got)
	}
}

func TestAppendEventSize(t *testing.T) {
	s := &session{id: "bench-1", token: "tok"}
	for _, size := range []int{minPayload, 200, 1000} {
		b := s.appendEvent(nil, 7, true, 123456789, size)
		i := len(`{"sessionId":"bench-1","token":"tok","seq":7,"event":`)
		inner := b[i : len(b)-1]
		if len(inner) != size && !(size == minPayload && len(inner) < size) {
			t.Errorf("size %d: inner event is %d bytes: %s", size, len(inner), inner)
		}
		if ts, _ := intField(inner, keyTS); ts != 123456789 {
			t.Errorf("ts %d", ts)
		}
	}
}

func BenchmarkViewerEvent(b *testing.B) {
	r := &run{}
	v := &viewer{r: r}
	s := &session{id: "bench-1", token: "tok"}
	ev := s.appendEvent(nil, 1, true, 1, 200)
	inner := ev[len(`{"sessionId":"bench-1","token":"tok","seq":1,"event":`) : len(ev)-1]
	frame := appendEventPacket(nil, "/viewer", "event", append(append([]byte(`{"event":`), inner...), `,"seq":1}`...))
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for i := 0; b.Loop(); i++ {
		p, _ := parsePacket(frame[1:])
		name, arg, _ := splitEvent(p.data)
		v.lastSeq = 0
		v.onEvent(name, arg)
	}
}
