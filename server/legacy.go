package server

import (
	"github.com/pizzapi/pizzapi/server/legacy"
)

// newLegacy returns the handler of PizzaPi's raw-WebSocket paths on /ws/ (answering 410 when they
// are switched off); the namespaces are mounted on it as on Socket.IO.
func (s *Server) newLegacy() *legacy.Handler {
	return legacy.New(s.accounts, legacy.Options{
		Enabled:         s.cfg.LegacyWS,
		MaxFrameBytes:   int64(s.cfg.MaxMessageBytes),
		MaxPendingBytes: max(int64(s.cfg.MaxMessageBytes)*2, 16<<20),
		Origins:         s.cfg.Origins(),
		Logger:          s.log,
		Metrics:         s.metrics,
	})
}
