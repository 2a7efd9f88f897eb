package loadgen

import (
	"fmt"
	"runtime/trace"
	"sync"
	"time"
)

// startTrace starts the runtime trace of Config.Trace, stopped after Config.TraceFor or by the
// returned function, whichever comes first. It logs the trace's start in seconds since the run's
// start, the clock of Result.Slow.
func (r *run) startTrace() (func(), error) {
	if err := trace.Start(r.cfg.Trace); err != nil {
		return nil, fmt.Errorf("loadgen: trace: %w", err)
	}
	at := time.Since(r.epoch)
	if r.cfg.Logf != nil {
		r.cfg.Logf("tracing for %v from %.6f s since the start", r.cfg.TraceFor, at.Seconds())
	}
	var once sync.Once
	end := func() { once.Do(trace.Stop) }
	t := time.AfterFunc(r.cfg.TraceFor, end)
	return func() { t.Stop(); end() }, nil
}
