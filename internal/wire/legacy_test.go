package wire

import (
	"errors"
	"strings"
	"testing"
)

var testRole = &LegacyRole{
	Name: "viewer", Path: "/ws/sessions/", Prefix: true, Namespace: "/viewer",
	Inbound: map[string][]string{
		"input":         {"attachments/*/size"},
		"session_ready": {"runnerId"},
		"connected":     {},
	},
	Closes: []LegacyClose{
		{After: "disconnected", WhenField: "reason", WhenValue: "x", Immediate: true, Code: 1000, Reason: "fixed"},
		{After: "disconnected", Immediate: true, Code: 1000, ReasonField: "reason"},
		{After: "error", Code: 1008, ReasonField: "message"},
	},
}

func TestLegacyDecode(t *testing.T) {
	for _, tc := range []struct {
		frame, event, payload, err string
		invalid                    bool
	}{
		{frame: `{"type":"connected"}`, event: "connected", payload: `{}`},
		{frame: ` { "runnerId" : null , "type":"session_ready", "sessionId":"s1" } `, event: "session_ready", payload: `{"sessionId":"s1"}`},
		{frame: `{"type":"session_ready","sessionId":"s1","runnerId":"r"}`, event: "session_ready", payload: `{"sessionId":"s1"}`},
		{frame: `{"text":"hi","type":"input","attachments":[{"attachmentId":"a","size":3}],"client":"web"}`, event: "input",
			payload: `{"attachments":[{"attachmentId":"a"}],"client":"web","text":"hi"}`},
		{frame: `{"type":"input","text":"a\"b"}`, event: "input", payload: `{"text":"a\"b"}`},
		{frame: `{"type":`, invalid: true, err: "Invalid JSON"},
		{frame: `not json`, invalid: true, err: "Invalid JSON"},
		{frame: `[1,2]`, err: `a frame must be a JSON object with a "type"`},
		{frame: `{"a":1}`, err: `the frame has no "type"`},
		{frame: `{"type":3}`, err: `the frame's "type" must be a string`},
		{frame: `{"type":"nope"}`, err: `unknown frame type "nope" on /ws/sessions/`},
		{frame: `{"type":"` + strings.Repeat("n", 100) + `"}`, err: `unknown frame type "` + strings.Repeat("n", 64) + `..." on /ws/sessions/`},
	} {
		event, payload, err := testRole.Decode([]byte(tc.frame))
		if tc.err != "" {
			var fe *LegacyFrameError
			if !errors.As(err, &fe) || fe.Message != tc.err || fe.InvalidJSON != tc.invalid {
				t.Errorf("%s: got %v, want %q (invalid JSON %v)", tc.frame, err, tc.err, tc.invalid)
			}
			continue
		}
		if err != nil || event != tc.event || string(payload) != tc.payload {
			t.Errorf("%s: got %q %s %v, want %q %s", tc.frame, event, payload, err, tc.event, tc.payload)
		}
	}
}

func TestAppendLegacyFrame(t *testing.T) {
	for _, tc := range []struct{ event, payload, want string }{
		{"connected", `{}`, `{"type":"connected"}`},
		{"connected", ``, `{"type":"connected"}`},
		{"exec", `{"type":"exec","id":"1"}`, `{"type":"exec","id":"1","type":"exec"}`},
		{"event", `{"event":{"type":"heartbeat"},"seq":2} `, `{"event":{"type":"heartbeat"},"seq":2,"type":"event"}`},
	} {
		if got := string(AppendLegacyFrame(nil, tc.event, []byte(tc.payload))); got != tc.want {
			t.Errorf("%s %s: got %s, want %s", tc.event, tc.payload, got, tc.want)
		}
	}
}

func TestLegacyClose(t *testing.T) {
	for _, tc := range []struct {
		event, payload string
		immediate      bool
		code           int
		reason         string
		ok             bool
	}{
		{"disconnected", `{"reason":"x"}`, true, 1000, "fixed", true},
		{"disconnected", `{"reason":"Session ended"}`, true, 1000, "Session ended", true},
		{"disconnected", `{"reason":"Session ended"}`, false, 0, "", false},
		{"error", `{"message":"Session not found"}`, false, 1008, "Session not found", true},
		{"event", `{}`, true, 0, "", false},
	} {
		code, reason, ok := testRole.Close(tc.event, []byte(tc.payload), tc.immediate)
		if code != tc.code || reason != tc.reason || ok != tc.ok {
			t.Errorf("%s %s: got %d %q %v", tc.event, tc.payload, code, reason, ok)
		}
	}
}

// FuzzLegacyDecode: no frame makes Decode panic, and a decoded payload is a JSON object again.
func FuzzLegacyDecode(f *testing.F) {
	for _, s := range []string{`{"type":"connected"}`, `{"type":"input","text":"x","attachments":[{"size":1}]}`, `{"runnerId":null,"type":"session_ready","sessionId":"s"}`, `[`, `{"type":"input","attachments":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		_, payload, err := testRole.Decode(frame)
		if err != nil {
			return
		}
		var d Decoder
		d.Reset(payload, false)
		d.ObjectStart()
		for i := 0; ; i++ {
			if _, ok := d.NextField(i); !ok {
				break
			}
			d.Skip()
			d.Pop()
		}
		d.End()
		if d.Failed() {
			t.Fatalf("payload %q of frame %q: %v", payload, frame, d.Err())
		}
	})
}
