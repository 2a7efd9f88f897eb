package contracttest

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/pizzapi/pizzapi/gen"
	"github.com/pizzapi/pizzapi/internal/wire"
	"github.com/pizzapi/pizzapi/protocol"
)

// fuzzTarget is one event the fuzzer can address by index.
type fuzzTarget struct {
	ns *gen.Namespace
	ev *gen.Event
}

func fuzzTargets(t testing.TB) []fuzzTarget {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	var out []fuzzTarget
	for _, ns := range c.Namespaces {
		for _, ev := range ns.Events() {
			if ev.Direction != gen.InterServer {
				out = append(out, fuzzTarget{ns, ev})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ns.Path != out[j].ns.Path {
			return out[i].ns.Path < out[j].ns.Path
		}
		return out[i].ev.Name < out[j].ev.Name || out[i].ev.Name == out[j].ev.Name && out[i].ev.Direction < out[j].ev.Direction
	})
	return out
}

// FuzzDispatch feeds random bytes to the generated dispatchers: they must never panic, whatever
// they accept must also be valid for the reference validator, and re-encoding an accepted payload
// must give a payload that decodes to the same encoding again.
func FuzzDispatch(f *testing.F) {
	targets := fuzzTargets(f)
	ref := newReference(f)
	for i, tg := range targets {
		for _, ex := range tg.ev.Examples {
			f.Add(uint16(i), []byte(ex))
		}
	}
	f.Add(uint16(0), []byte(`{"a":[1,2,{"b":"\ud83c\udf55"}]}`))
	f.Fuzz(func(t *testing.T, which uint16, payload []byte) {
		tg := targets[int(which)%len(targets)]
		g := namespaces[tg.ns.Path]
		_, err := g.dispatch[tg.ev.Direction](context.Background(), tg.ev.Name, bytes.Clone(payload))
		var ee *protocol.EventError
		switch {
		case errors.As(err, &ee):
			return
		case !errors.Is(err, protocol.ErrUnimplemented):
			t.Fatalf("unexpected error %v", err)
		}
		if !ref.valid(t, tg.ns, tg.ev, payload) {
			t.Fatalf("%s %s: accepted a payload the reference validator refuses: %q", tg.ns.Path, tg.ev.Name, payload)
		}
		m := g.newPayload[tg.ev.Direction](tg.ev.Name)
		if err := wire.DecodeEvent(tg.ns.Path, tg.ev.Name, bytes.Clone(payload), m); err != nil {
			t.Fatal(err)
		}
		once := m.AppendJSON(nil)
		m2 := g.newPayload[tg.ev.Direction](tg.ev.Name)
		if err := wire.DecodeEvent(tg.ns.Path, tg.ev.Name, once, m2); err != nil {
			t.Fatalf("re-encoded payload %s does not decode: %v", once, err)
		}
		if twice := m2.AppendJSON(nil); !bytes.Equal(once, twice) {
			t.Fatalf("encoding is not stable:\n%s\n%s", once, twice)
		}
	})
}
