package live

// Memory is the live state of a single relay node, kept in process memory: a memory store for
// each concern.
type Memory struct {
	*MemorySessionStore
	*MemoryRunnerStore
	*MemoryTerminalStore
	*MemoryLinkStore
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store keeping historySize events per session.
func NewMemory(historySize int) *Memory {
	return &Memory{
		MemorySessionStore:  NewMemorySessionStore(historySize),
		MemoryRunnerStore:   NewMemoryRunnerStore(),
		MemoryTerminalStore: NewMemoryTerminalStore(),
		MemoryLinkStore:     NewMemoryLinkStore(),
	}
}
