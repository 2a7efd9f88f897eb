package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pizzapi/pizzapi/gen"
	"github.com/pizzapi/pizzapi/internal/wire"
	"github.com/pizzapi/pizzapi/protocol"
)

var groupKeys = [3]string{"clientToServer", "serverToClient", "interServer"}

// reference compiles schema locations with santhosh-tekuri/jsonschema, the reference
// implementation the generated validators are compared with.
type reference struct {
	c   *jsonschema.Compiler
	ids map[string]string // file name -> $id
	mu  sync.Mutex
}

func newReference(t testing.TB) *reference {
	t.Helper()
	paths, err := filepath.Glob("../../schema/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("schema files: %v", err)
	}
	r := &reference{c: jsonschema.NewCompiler(), ids: map[string]string{}}
	r.c.DefaultDraft(jsonschema.Draft2020)
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		id := doc.(map[string]any)["$id"].(string)
		r.ids[filepath.Base(p)] = id
		if err := r.c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// valid reports whether the reference implementation accepts payload for the event.
func (r *reference) valid(t testing.TB, ns *gen.Namespace, ev *gen.Event, payload []byte) bool {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	loc := r.ids[ns.File] + "#/$defs/" + groupKeys[ev.Direction] + "/$defs/" + ev.Name
	s, err := r.c.Compile(loc)
	if err != nil {
		t.Fatalf("compile %s: %v", loc, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return false
	}
	return s.Validate(inst) == nil
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("unmarshal %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func TestEveryNamespaceIsCovered(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Namespaces) != len(namespaces) {
		t.Fatalf("schema has %d namespaces, the test knows %d", len(c.Namespaces), len(namespaces))
	}
	var c2s, s2c int
	for _, ns := range c.Namespaces {
		if _, ok := namespaces[ns.Path]; !ok {
			t.Errorf("namespace %s is not in the test table", ns.Path)
		}
		c2s += len(ns.Groups[gen.ClientToServer].Events)
		s2c += len(ns.Groups[gen.ServerToClient].Events)
	}
	// The reference protocol's 25 + 45 events, plus the three runner replies it left untyped.
	if c2s != 28 || s2c != 45 {
		t.Errorf("events: %d client-to-server, %d server-to-client; want 28 and 45", c2s, s2c)
	}
}

// TestExamplesRoundTrip decodes every example of every event, checks it through the dispatcher,
// re-encodes it and compares the result with the example.
func TestExamplesRoundTrip(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	ref := newReference(t)
	n := 0
	for _, ns := range c.Namespaces {
		g := namespaces[ns.Path]
		for _, ev := range ns.Events() {
			for i, ex := range ev.Examples {
				m := g.newPayload[ev.Direction](ev.Name)
				if m == nil {
					t.Fatalf("%s %s: no payload factory", ns.Path, ev.Name)
				}
				if err := wire.DecodeEvent(ns.Path, ev.Name, bytes.Clone(ex), m); err != nil {
					t.Errorf("%s %s example %d: %v", ns.Path, ev.Name, i+1, err)
					continue
				}
				out := m.AppendJSON(nil)
				if !jsonEqual(t, ex, out) {
					t.Errorf("%s %s example %d re-encodes differently:\n got %s\nwant %s", ns.Path, ev.Name, i+1, out, ex)
				}
				if !ref.valid(t, ns, ev, out) {
					t.Errorf("%s %s example %d: the re-encoded payload is not valid for the reference validator: %s", ns.Path, ev.Name, i+1, out)
				}
				if ev.Direction != gen.InterServer {
					_, err := g.dispatch[ev.Direction](context.Background(), ev.Name, bytes.Clone(ex))
					if !errors.Is(err, protocol.ErrUnimplemented) {
						t.Errorf("%s %s example %d: dispatch returned %v, want the handler's ErrUnimplemented", ns.Path, ev.Name, i+1, err)
					}
				}
				n++
			}
		}
	}
	t.Logf("%d examples round-tripped", n)
}

// mutation is a crafted invalid payload with the pointer and message the decoder must report.
type mutation struct {
	name    string
	payload []byte
	pointer string
	message string
}

// wrongValue returns a JSON value of the wrong type for t, or nil when any value is allowed.
func wrongValue(r gen.Ref) any {
	switch r.Type.Kind {
	case gen.KindString:
		return 12345
	case gen.KindInteger, gen.KindNumber:
		return "not a number"
	case gen.KindBoolean:
		return "yes"
	case gen.KindArray:
		return map[string]any{"not": "an array"}
	case gen.KindObject, gen.KindDiscriminated:
		return []any{"not an object"}
	}
	return nil
}

func mutations(t testing.TB, ev *gen.Event) []mutation {
	var base map[string]any
	if err := json.Unmarshal(ev.Examples[0], &base); err != nil {
		t.Fatal(err)
	}
	with := func(edit func(m map[string]any)) []byte {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var out []mutation
	for _, f := range ev.Payload.Fields {
		if wrong := wrongValue(f.Ref); wrong != nil {
			out = append(out, mutation{
				name:    "wrong type of " + f.Name,
				payload: with(func(m map[string]any) { m[f.Name] = wrong }),
				pointer: "/" + f.Name,
				message: "expected ",
			})
		}
		if f.Required {
			out = append(out, mutation{
				name:    "missing " + f.Name,
				payload: with(func(m map[string]any) { delete(m, f.Name) }),
				pointer: "/" + f.Name,
				message: `missing required property "` + f.Name + `"`,
			})
		}
	}
	if !ev.Payload.Open {
		out = append(out, mutation{
			name:    "unknown field",
			payload: with(func(m map[string]any) { m["surprise"] = true }),
			pointer: "/surprise",
			message: `unknown property "surprise"`,
		})
	}
	out = append(out, mutation{name: "not an object", payload: []byte(`["x"]`), pointer: "", message: "expected object, got array"})
	return out
}

// TestInvalidPayloadsNamePointer crafts invalid payloads for every event (a wrong type per field,
// each required field missing, an unknown field in closed payloads) and checks that both the
// generated decoder and the reference validator refuse them, the decoder with the right pointer.
func TestInvalidPayloadsNamePointer(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	ref := newReference(t)
	n := 0
	for _, ns := range c.Namespaces {
		g := namespaces[ns.Path]
		for _, ev := range ns.Events() {
			for _, mu := range mutations(t, ev) {
				n++
				if ref.valid(t, ns, ev, mu.payload) {
					t.Errorf("%s %s %s: the reference validator accepts %s", ns.Path, ev.Name, mu.name, mu.payload)
				}
				m := g.newPayload[ev.Direction](ev.Name)
				err := wire.DecodeEvent(ns.Path, ev.Name, mu.payload, m)
				var ee *protocol.EventError
				if !errors.As(err, &ee) {
					t.Errorf("%s %s %s: got %v, want an EventError", ns.Path, ev.Name, mu.name, err)
					continue
				}
				if ee.Pointer != mu.pointer || !strings.HasPrefix(ee.Message, mu.message) || ee.Event != ev.Name || ee.Namespace != ns.Path {
					t.Errorf("%s %s %s: got %+v, want pointer %q and message %q", ns.Path, ev.Name, mu.name, ee, mu.pointer, mu.message)
				}
			}
		}
	}
	t.Logf("%d invalid payloads refused", n)
}

func TestNestedPointers(t *testing.T) {
	cases := []struct {
		ns, event, payload, pointer, message string
	}{
		{"/runner", "register_runner", `{"skills":[{"name":"ok","description":"d","filePath":"/f"},{"name":7,"description":"d","filePath":"/f"}]}`,
			"/skills/1/name", "expected string, got number"},
		{"/runner", "create_skill", `{"requestId":"r1","name":"Bad Name!","content":"x"}`, "/name", "must match the pattern"},
		{"/relay", "event", `{"sessionId":"s","token":"t","event":{"type":"heartbeat","active":"yes"}}`, "/event/active", "expected boolean, got string"},
		{"/relay", "event", `{"sessionId":"s","token":"t","event":{"type":"message_update","assistantMessageEvent":{"type":"thinking_start","contentIndex":-1}}}`,
			"/event/assistantMessageEvent/contentIndex", "must be at least 0"},
		{"/relay", "event", `{"sessionId":"s","token":"t","event":{"kind":"x"}}`, "/event/type", `missing required property "type"`},
		{"/viewer", "input", `{"text":"hi","deliverAs":"later"}`, "/deliverAs", `must be one of "steer", "followUp"`},
		{"/relay", "register", `{"cwd":"/", "sessionId": ""}`, "/sessionId", "must be at least 1 characters long"},
		{"/relay", "register", `{"cwd":"/"} x`, "", "invalid JSON: unexpected data after the value"},
		{"/relay", "register", `{"cwd":"/`, "/cwd", "invalid JSON: unexpected end of input"},
		{"/hub", "session_status", `{"sessionId":"s","isActive":true,"lastHeartbeatAt":null,"sessionName":null,"model":{"provider":"p"}}`, "/model/id", `missing required property "id"`},
	}
	for _, tc := range cases {
		g := namespaces[tc.ns]
		dir := 0
		m := g.newPayload[0](tc.event)
		if m == nil {
			dir = 1
			m = g.newPayload[1](tc.event)
		}
		_, err := g.dispatch[dir](context.Background(), tc.event, []byte(tc.payload))
		var ee *protocol.EventError
		if !errors.As(err, &ee) || ee.Pointer != tc.pointer || !strings.HasPrefix(ee.Message, tc.message) {
			t.Errorf("%s %s %s: got %v, want %q at %q", tc.ns, tc.event, tc.payload, err, tc.message, tc.pointer)
		}
	}
}

func TestUnknownEventsAndMissingPayloads(t *testing.T) {
	ctx := context.Background()
	_, err := namespaces["/relay"].dispatch[0](ctx, "no_such_event", []byte(`{}`))
	var ee *protocol.EventError
	if !errors.As(err, &ee) || ee.Message != "unknown event" || ee.Event != "no_such_event" {
		t.Errorf("unknown event: %v", err)
	}
	// A missing payload counts as {}: fine when nothing is required, an error naming the first
	// required property otherwise.
	if _, err := namespaces["/viewer"].dispatch[0](ctx, "connected", nil); !errors.Is(err, protocol.ErrUnimplemented) {
		t.Errorf("greeting without payload: %v", err)
	}
	if _, err := namespaces["/relay"].dispatch[0](ctx, "register", nil); !errors.As(err, &ee) || ee.Pointer != "/cwd" {
		t.Errorf("register without payload: %v", err)
	}
}

func TestOptionalAndNullableStayApart(t *testing.T) {
	cases := map[string]string{
		"absent":  `{"cwd":"/"}`,
		"null":    `{"cwd":"/","sessionName":null}`,
		"present": `{"cwd":"/","sessionName":"demo"}`,
	}
	for name, in := range cases {
		m := namespaces["/relay"].newPayload[0]("register")
		if err := json.Unmarshal([]byte(in), m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out := m.AppendJSON(nil); string(out) != in {
			t.Errorf("%s: re-encoded as %s", name, out)
		}
	}
}
