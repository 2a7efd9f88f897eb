package runner

import (
	"testing"
)

// TestReconnect: after the connection drops, the daemon connects and registers again; the
// terminals it had are ended (the relay ended them for their viewers already).
func TestReconnect(t *testing.T) {
	f := newFixture(t, nil)
	c := f.openTerminal(t, "", 80, 24)
	c.Next(t, "terminal_ready")
	f.d.out.mu.Lock()
	client := f.d.out.c
	f.d.out.mu.Unlock()
	client.DropTransport()
	if code := c.exit(t); code != -1 {
		t.Fatalf("exit code %d", code)
	}
	f.waitRegistered(t, 2)
	eventually(t, "the terminal to end", func() bool { return f.logs.count("terminal closed") == 1 })
	var terms struct{ Terminals []string }
	f.command(t, "list_terminals", nil, &terms)
	if len(terms.Terminals) != 0 {
		t.Fatalf("terminals after reconnecting: %v", terms.Terminals)
	}
}
