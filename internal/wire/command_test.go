package wire

import (
	"encoding/json"
	"errors"
	"testing"
)

// params is a parameter object with one required string, decoded by hand the way generated code
// does it.
type params struct{ Level string }

func (p *params) ReadJSON(d *Decoder) {
	if !d.ObjectStart() {
		return
	}
	seen := false
	for i := 0; ; i++ {
		key, ok := d.NextField(i)
		if !ok {
			break
		}
		switch string(key) {
		case "level":
			seen = true
			p.Level = d.String()
		default:
			d.Unknown()
		}
		d.Pop()
	}
	if !seen {
		d.Missing("level")
	}
}

func (p *params) AppendJSON(b []byte) []byte {
	b = append(b, `{"level":`...)
	return append(AppendString(b, p.Level), '}')
}

func TestAppendExec(t *testing.T) {
	for _, tc := range []struct{ params, want string }{
		{`{}`, `{"id":"c-1","command":"abort"}`},
		{` { } `, `{"id":"c-1","command":"abort"}`},
		{``, `{"id":"c-1","command":"abort"}`},
		{`{"level":"high"}`, `{"id":"c-1","command":"abort","level":"high"}`},
		{`{ "a":1, "b":[2] }`, `{"id":"c-1","command":"abort","a":1, "b":[2]}`},
	} {
		got := string(AppendExec(nil, "c-1", "abort", []byte(tc.params)))
		if got != tc.want {
			t.Errorf("AppendExec(%q) = %s, want %s", tc.params, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("AppendExec(%q) is not JSON: %s", tc.params, got)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	err := UnknownCommand("fly")
	if err.Error() != "Unknown exec command: fly" || !errors.Is(err, ErrUnknownCommand) || errors.Is(err, ErrUnimplemented) {
		t.Errorf("unknown: %v", err)
	}
	err = UnimplementedCommand("restart")
	if !errors.Is(err, ErrUnimplemented) || errors.Is(err, ErrUnknownCommand) {
		t.Errorf("unimplemented: %v", err)
	}
	var p params
	if err := DecodeParams("set_thinking_level", map[string]json.RawMessage{"level": json.RawMessage(`"high"`)}, &p); err != nil || p.Level != "high" {
		t.Errorf("decode: %v %+v", err, p)
	}
	err = DecodeParams("set_thinking_level", map[string]json.RawMessage{"level": json.RawMessage(`5`)}, &p)
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Pointer != "/level" || ce.Command != "set_thinking_level" {
		t.Errorf("bad parameter: %#v", err)
	}
	if err := DecodeParams("set_thinking_level", nil, &p); err == nil {
		t.Error("missing parameter accepted")
	}
	if err := DecodeResult("set_thinking_level", nil, &p); err == nil {
		t.Error("missing result accepted")
	}
}
