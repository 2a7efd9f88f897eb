package server

import (
	"github.com/pizzapi/pizzapi/server/legacy"
)

// newLegacy returns the handler of PizzaPi's raw-WebSocket paths on /ws/, bridged into the same
// core as the namespaces (or answering 410 when they are switched off).
func (s *Server) newLegacy() *legacy.Handler {
	return legacy.New(s.core, s.accounts, legacy.Options{
		Enabled:         s.cfg.LegacyWS,
		MaxFrameBytes:   int64(s.cfg.MaxMessageBytes),
		MaxPendingBytes: max(int64(s.cfg.MaxMessageBytes)*2, 16<<20),
		Origins:         s.cfg.Origins(),
		Logger:          s.log,
		Metrics:         s.metrics,
	})
}
