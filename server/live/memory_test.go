package live_test

import (
	"testing"

	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/live/livetest"
)

func TestMemory(t *testing.T) {
	livetest.Run(t, func(*testing.T) live.Store { return live.NewMemory(livetest.HistorySize) })
}

// The concerns' memory stores pass their suites on their own, without the others.

func TestMemorySessionStore(t *testing.T) {
	open := func(*testing.T) livetest.Sessions { return live.NewMemorySessionStore(livetest.HistorySize) }
	livetest.RunSessions(t, open)
	livetest.RunEvents(t, open)
}

func TestMemoryRunnerStore(t *testing.T) {
	livetest.RunRunners(t, func(*testing.T) live.RunnerStore { return live.NewMemoryRunnerStore() })
}

func TestMemoryTerminalStore(t *testing.T) {
	livetest.RunTerminals(t, func(*testing.T) live.TerminalStore { return live.NewMemoryTerminalStore() })
}

func TestMemoryLinkStore(t *testing.T) {
	livetest.RunLinks(t, func(*testing.T) live.LinkStore { return live.NewMemoryLinkStore() })
}
