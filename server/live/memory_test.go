package live_test

import (
	"testing"

	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/live/livetest"
)

func TestMemory(t *testing.T) {
	livetest.Run(t, func(*testing.T) live.Store { return live.NewMemory(livetest.HistorySize) })
}
