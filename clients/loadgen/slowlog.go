package loadgen

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// MaxSlowDeliveries bounds the slow deliveries a run keeps (Config.SlowThreshold).
const MaxSlowDeliveries = 100_000

// SlowDelivery is one measured delivery whose latency passed Config.SlowThreshold.
type SlowDelivery struct {
	// At is when the viewer read it, since the start of the run.
	At time.Duration
	// Latency is its send-to-receive time.
	Latency time.Duration
	// Session is the index of the session that published it.
	Session int
}

// slowLog collects slow deliveries from the viewers' reader goroutines. It holds its lock only
// for slow deliveries, so the fast path of a delivery stays a comparison.
type slowLog struct {
	threshold time.Duration
	mu        sync.Mutex
	list      []SlowDelivery
	dropped   int64
}

func (l *slowLog) note(at, latency time.Duration, session int) {
	if l.threshold <= 0 || latency < l.threshold {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.list) >= MaxSlowDeliveries {
		l.dropped++
		return
	}
	l.list = append(l.list, SlowDelivery{At: at, Latency: latency, Session: session})
}

// sorted returns the slow deliveries in the order they were read, and how many did not fit.
func (l *slowLog) sorted() ([]SlowDelivery, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.list)
	slices.SortFunc(out, func(a, b SlowDelivery) int { return int(a.At - b.At) })
	return out, l.dropped
}

// WriteSlowLog writes the slow deliveries of a result, one a line: when the viewer read it
// (seconds since the start of the run, the clock of GODEBUG=gctrace=1's "@" times of this
// process), its latency in milliseconds and the publishing session's index.
func WriteSlowLog(w io.Writer, res *Result) error {
	if _, err := fmt.Fprintf(w, "# at_s latency_ms session (deliveries over %v; %d not kept)\n", res.SlowThreshold, res.SlowDropped); err != nil {
		return err
	}
	for _, d := range res.Slow {
		if _, err := fmt.Fprintf(w, "%.6f %.3f %d\n", d.At.Seconds(), float64(d.Latency)/1e6, d.Session); err != nil {
			return err
		}
	}
	return nil
}
