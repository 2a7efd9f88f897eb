package bus_test

import (
	"slices"
	"testing"

	"github.com/pizzapi/pizzapi/server/bus"
)

// TestGate: a paused gate holds deliveries and writes them on Resume without the events already
// written, a repeated or older event is skipped, direct writes go first, control messages reach
// the control function, and a gate holding too many messages kicks its member.
func TestGate(t *testing.T) {
	var wrote []string
	var kicked string
	g := bus.NewGate(func(m *bus.Message) { wrote = append(wrote, m.Event) }, func(r string) { kicked = r })
	var controls []string
	g.OnControl(func(m *bus.Message) { controls = append(controls, m.Control) })

	g.Deliver(bus.NewMessage("/viewer", "e1", []byte(`{}`), 1))
	g.Deliver(bus.NewMessage("/viewer", "e1 again", []byte(`{}`), 1))
	g.Pause()
	g.Deliver(bus.NewMessage("/viewer", "e2", []byte(`{}`), 2))
	g.Deliver(bus.NewMessage("/viewer", "e3", []byte(`{}`), 3))
	ctl := &bus.Message{Control: "detach"}
	g.Deliver(ctl)
	g.NowSeq(2, func() { wrote = append(wrote, "snapshot to 2") })
	if len(controls) != 0 {
		t.Fatalf("control ran while paused: %v", controls)
	}
	g.Resume(2)
	if want := []string{"e1", "snapshot to 2", "e3"}; !slices.Equal(wrote, want) {
		t.Fatalf("wrote %v, want %v", wrote, want)
	}
	if want := []string{"detach"}; !slices.Equal(controls, want) {
		t.Fatalf("controls %v, want %v", controls, want)
	}
	if g.LastSeq() != 3 {
		t.Fatalf("LastSeq %d, want 3", g.LastSeq())
	}

	g.Pause()
	for i := range bus.MaxHeld + 1 {
		g.Deliver(bus.NewMessage("/viewer", "e", []byte(`{}`), int64(10+i)))
	}
	if kicked == "" {
		t.Fatal("a gate holding more than MaxHeld messages did not kick its member")
	}
}
