package wire

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// LegacyRole is one upgrade path of PizzaPi's raw-WebSocket protocol (schema/legacy.json): a
// frame is one JSON object {"type": name, ...fields} in a text message, and maps to the event of
// the same name on the role's Socket.IO namespace with the other fields as its payload.
type LegacyRole struct {
	// Name is the role as PizzaPi's logs name it: tui, viewer, runner, terminal or hub.
	Name string
	// Path is the upgrade path; with Prefix set, an id follows it (the viewer's session id, the
	// terminal id).
	Path   string
	Prefix bool
	// Namespace is the Socket.IO namespace whose handlers serve the role.
	Namespace string
	// Inbound are the frame types clients send, each with the legacy-only fields the relay leaves
	// out before the payload is checked against the namespace's contract: a field name, or a
	// path into nested values with "*" for every array element ("attachments/*/size").
	Inbound map[string][]string
	// Outbound are the frame types the relay sends.
	Outbound []string
	// Closes say which close code ends a connection after which frame; the first match applies.
	Closes []LegacyClose
}

// LegacyClose says how a legacy connection is closed after a frame of type After (whose field
// WhenField, if set, equals WhenValue).
type LegacyClose struct {
	After     string
	WhenField string
	WhenValue string
	// Immediate closes right after the frame; otherwise the rule applies when the relay ends the
	// connection and this frame was the last one sent.
	Immediate bool
	Code      int
	// Reason is the close reason; ReasonField takes it from a string field of the frame instead.
	Reason      string
	ReasonField string
}

// LegacyFrameError is a frame the relay cannot read: not JSON, not an object, or without a type
// it knows.
type LegacyFrameError struct {
	// InvalidJSON is set when the frame is not well-formed JSON (PizzaPi answers "Invalid JSON").
	InvalidJSON bool
	Message     string
}

// Error returns the message.
func (e *LegacyFrameError) Error() string { return e.Message }

// Decode splits a frame into its type, which is the event name, and the payload of that event:
// the frame's other fields, leaving out the legacy-only ones. The payload shares no memory with
// frame.
func (r *LegacyRole) Decode(frame []byte) (string, []byte, error) {
	var d Decoder
	d.Reset(frame, false)
	if d.Peek() != KindObject {
		d.Skip()
		d.End()
		if d.Failed() {
			return "", nil, &LegacyFrameError{InvalidJSON: true, Message: "Invalid JSON"}
		}
		return "", nil, &LegacyFrameError{Message: "a frame must be a JSON object with a \"type\""}
	}
	type span struct{ start, end int }
	var (
		fields  []span
		names   [][]byte
		typ     string
		hasType bool
	)
	d.ObjectStart()
	for i := 0; ; i++ {
		start := d.Pos()
		name, ok := d.NextField(i)
		if !ok {
			break
		}
		if string(name) == "type" {
			if d.Peek() != KindString {
				d.Skip()
				d.Pop()
				if d.Failed() {
					break
				}
				return "", nil, &LegacyFrameError{Message: "the frame's \"type\" must be a string"}
			}
			typ, hasType = d.String(), true
			d.Pop()
			continue
		}
		d.Skip()
		d.Pop()
		fields = append(fields, span{start, d.Pos()})
		names = append(names, name)
	}
	d.End()
	if d.Failed() {
		return "", nil, &LegacyFrameError{InvalidJSON: true, Message: "Invalid JSON"}
	}
	if !hasType {
		return "", nil, &LegacyFrameError{Message: "the frame has no \"type\""}
	}
	drop, known := r.Inbound[typ]
	if !known {
		name := typ
		if len(name) > 64 { // the error frame does not echo a huge name back
			name = name[:64] + "..."
		}
		return typ, nil, &LegacyFrameError{Message: "unknown frame type \"" + name + "\" on " + r.Path}
	}
	payload := make([]byte, 0, len(frame))
	payload = append(payload, '{')
	for i, f := range fields {
		if slices.Contains(drop, string(names[i])) {
			continue
		}
		if len(payload) > 1 {
			payload = append(payload, ',')
		}
		payload = append(payload, trimComma(frame[f.start:f.end])...)
	}
	payload = append(payload, '}')
	for _, path := range drop {
		if strings.Contains(path, "/") {
			payload = dropNested(payload, strings.Split(path, "/"))
		}
	}
	return typ, payload, nil
}

// dropNested removes the values at a path from a JSON object. It decodes and encodes the whole
// value, which is fine for the small frames that need it (a viewer's input).
func dropNested(obj []byte, path []string) []byte {
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || !removePath(v, path) {
		return obj
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return obj
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// removePath deletes what path names inside v and reports whether anything was deleted.
func removePath(v any, path []string) bool {
	if len(path) == 0 {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		if len(path) == 1 {
			_, ok := x[path[0]]
			delete(x, path[0])
			return ok
		}
		return removePath(x[path[0]], path[1:])
	case []any:
		if path[0] != "*" {
			return false
		}
		removed := false
		for _, e := range x {
			removed = removePath(e, path[1:]) || removed
		}
		return removed
	}
	return false
}

// trimComma removes the whitespace and the member separator that may precede a member's bytes.
func trimComma(b []byte) []byte {
	for len(b) > 0 && (b[0] == ',' || b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// AppendLegacyFrame appends the frame of an event: the payload's fields with "type" set last, so
// that a payload carrying a "type" of its own cannot override it (JSON.parse keeps the last).
func AppendLegacyFrame(b []byte, event string, payload []byte) []byte {
	i := len(payload) - 1
	for i >= 0 && payload[i] != '}' {
		i--
	}
	if i < 0 {
		b = append(b, '{')
	} else {
		b = append(b, payload[:i]...)
		j := len(b) - 1
		for j >= 0 && (b[j] == ' ' || b[j] == '\n' || b[j] == '\r' || b[j] == '\t') {
			j--
		}
		if j >= 0 && b[j] != '{' {
			b = append(b, ',')
		}
	}
	b = append(b, `"type":`...)
	b = AppendString(b, event)
	return append(b, '}')
}

// Close returns the close code and reason after a frame was sent: immediate selects the rules
// that close at once (checked after every frame) or those that apply when the relay ends the
// connection. ok is false when no rule matches.
func (r *LegacyRole) Close(event string, payload []byte, immediate bool) (code int, reason string, ok bool) {
	for _, c := range r.Closes {
		if c.After != event || c.Immediate != immediate {
			continue
		}
		if c.WhenField != "" && stringField(payload, c.WhenField) != c.WhenValue {
			continue
		}
		reason = c.Reason
		if c.ReasonField != "" {
			reason = stringField(payload, c.ReasonField)
		}
		return c.Code, reason, true
	}
	return 0, "", false
}

// stringField returns a top-level string field of a JSON object ("" when absent or not a string).
func stringField(obj []byte, name string) string {
	var d Decoder
	d.Reset(obj, false)
	if !d.ObjectStart() {
		return ""
	}
	for i := 0; ; i++ {
		key, ok := d.NextField(i)
		if !ok {
			return ""
		}
		if string(key) == name && d.Peek() == KindString {
			return d.String()
		}
		d.Skip()
		d.Pop()
	}
}
