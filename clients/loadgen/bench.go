package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pizzapi/pizzapi/protocol/relay"
)

// Config describes one benchmark run.
type Config struct {
	// URL is the relay's base URL, e.g. http://127.0.0.1:3000.
	URL string
	// ViewerURL, when set, is where the viewers connect instead (another node of a cluster, to
	// measure delivery across nodes).
	ViewerURL string
	// APIKey authenticates the publishers (/relay) and the viewers (/viewer).
	APIKey string
	// Sessions is the number of published sessions, each with its own /relay connection.
	Sessions int
	// Viewers is the number of /viewer connections per session.
	Viewers int
	// ViewerPolling starts each viewer's connection on HTTP long-polling and upgrades it to the
	// websocket, as socket.io-client does by default (DialOptions.Polling).
	ViewerPolling bool
	// Rate is the number of events per second each session publishes; 0 publishes nothing (an
	// idle hold, to measure memory per connection).
	Rate float64
	// Duration is the measured publishing time (or the idle hold).
	Duration time.Duration
	// Warmup is the publishing time before the measurement; its events are not counted.
	Warmup time.Duration
	// Drain bounds the wait for events still in flight after the last one is sent.
	Drain time.Duration
	// Settle is the pause after connecting the viewers before memory is sampled.
	Settle time.Duration
	// Payload is the size in bytes of each inner agent event.
	Payload int
	// ServerPID, when set, is the relay process whose CPU time and RSS are sampled.
	ServerPID int
	// Concurrency bounds the connections being opened at once.
	Concurrency int
	// Attempts is how many times a connection is tried before it counts as failed.
	Attempts int
	// AttemptTimeout bounds one connection attempt (handshake and first event).
	AttemptTimeout time.Duration
	// ConnectTimeout bounds the whole connection phase.
	ConnectTimeout time.Duration
	// PublisherCommand, when set, runs each session's publisher in a process of its own started
	// with this command (`pizzapi bench --publisher-child`, which calls ServePublisher), so that
	// it shares the core with the viewers' readers through the kernel's scheduler, not Go's.
	// It is for runs of at most MaxPublisherProcesses sessions.
	PublisherCommand []string
	// SlowThreshold, when positive, keeps every measured delivery at least this late (at most
	// MaxSlowDeliveries) in Result.Slow, with the time it was read: to tell whose pauses make a
	// latency tail (line them up with the collector's cycles of the relay and of this process).
	SlowThreshold time.Duration
	// Trace, when set, receives a runtime/trace of this process for TraceFor (default 3 s) from
	// the end of the warm-up on, to line the generator's goroutines up with Result.Slow; the
	// trace's start, in seconds since the run's start, goes to Logf.
	Trace io.Writer
	// TraceFor is how long Trace records.
	TraceFor time.Duration
	// Logf, when set, receives progress lines.
	Logf func(format string, args ...any)
}

// Limits that keep a run bounded whatever the flags say.
const (
	MaxDuration    = 10 * time.Minute
	MaxConnections = 19_000 // the open-file limit per process is 20,000
	// MaxPublisherProcesses bounds the processes PublisherCommand starts (one per session).
	MaxPublisherProcesses = 16
)

func (c *Config) setDefaults() error {
	if c.URL == "" {
		return errors.New("loadgen: URL is required")
	}
	if c.ViewerURL == "" {
		c.ViewerURL = c.URL
	}
	if c.APIKey == "" {
		return errors.New("loadgen: an API key is required")
	}
	if c.Sessions <= 0 {
		c.Sessions = 1
	}
	if c.Viewers < 0 {
		c.Viewers = 0
	}
	if c.Rate < 0 {
		return errors.New("loadgen: rate must not be negative")
	}
	if c.Rate > 1e6 {
		return errors.New("loadgen: rate is at most 1,000,000 events/s per session")
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.Drain <= 0 {
		c.Drain = 5 * time.Second
	}
	if c.Settle <= 0 {
		c.Settle = time.Second
	}
	if c.TraceFor <= 0 {
		c.TraceFor = 3 * time.Second
	}
	if c.Duration+c.Warmup+c.Drain > MaxDuration {
		return fmt.Errorf("loadgen: duration, warm-up and drain add up to more than %v", MaxDuration)
	}
	if c.Payload < minPayload {
		c.Payload = minPayload
	}
	if c.Payload > 1<<20 {
		return errors.New("loadgen: payload is at most 1 MiB")
	}
	if len(c.PublisherCommand) > 0 && c.Sessions > MaxPublisherProcesses {
		return fmt.Errorf("loadgen: a publisher process per session is for a few sessions (at most %d), not %d", MaxPublisherProcesses, c.Sessions)
	}
	if n := c.Sessions * (c.Viewers + 1); n > MaxConnections {
		return fmt.Errorf("loadgen: %d connections exceed the per-process limit of %d", n, MaxConnections)
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 10 * time.Second
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 3 * time.Minute
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return nil
}

// run is the shared state of one benchmark run.
type run struct {
	cfg       Config
	epoch     time.Time // event timestamps are nanoseconds since epoch (monotonic clock)
	relayAuth []byte
	sessions  []*session

	hist           Histogram
	slow           slowLog
	received       atomic.Int64 // measured events delivered, in order, not repeated
	warmupReceived atomic.Int64
	lastRecv       atomic.Int64 // ns since epoch of the last delivery of a benchmark event
	lastSend       atomic.Int64 // ns since epoch of the end of publishing

	failMu   sync.Mutex
	failures map[string]int
}

func (r *run) noteRecv(at int64) {
	for {
		cur := r.lastRecv.Load()
		if at <= cur || r.lastRecv.CompareAndSwap(cur, at) {
			return
		}
	}
}

func (r *run) noteSendEnd(at time.Duration) {
	for {
		cur := r.lastSend.Load()
		if int64(at) <= cur || r.lastSend.CompareAndSwap(cur, int64(at)) {
			return
		}
	}
}

func (r *run) fail(what string, err error) {
	var ce *ConnectError
	msg := err.Error()
	if errors.As(err, &ce) {
		msg = "connect_error: " + ce.Message
	}
	if len(msg) > 160 {
		msg = msg[:160]
	}
	r.failMu.Lock()
	r.failures[what+": "+msg]++
	r.failMu.Unlock()
}

// parallel runs fn(i) for i in [0, n) on at most workers goroutines, until ctx ends.
func parallel(ctx context.Context, n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// retry calls fn up to attempts times while it fails with an error worth retrying.
func retry(ctx context.Context, attempts int, fn func() error) error {
	var err error
	for a := range attempts {
		if err = fn(); err == nil {
			return nil
		}
		var ce *ConnectError
		if errors.As(err, &ce) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(time.Duration(100*(a+1)) * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
	return err
}

// Run performs a benchmark: it registers the sessions, connects the viewers, publishes for the
// warm-up and the measured duration, waits for the events in flight (at most Drain) and
// reports. Every phase is bounded in time; ctx cancels the run.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, epoch: time.Now(), failures: map[string]int{}}
	r.slow.threshold = cfg.SlowThreshold
	r.relayAuth, _ = relay.Auth{APIKey: cfg.APIKey}.MarshalJSON()
	res := &Result{
		URL: cfg.URL, Sessions: cfg.Sessions, ViewersPerSession: cfg.Viewers, Rate: cfg.Rate,
		PayloadBytes: cfg.Payload, WarmupSeconds: cfg.Warmup.Seconds(),
	}
	sample := func() *ProcSample {
		if cfg.ServerPID <= 0 {
			return nil
		}
		s, err := SampleProc(cfg.ServerPID)
		if err != nil {
			cfg.Logf("cannot sample server process %d: %v", cfg.ServerPID, err)
			return nil
		}
		return &s
	}
	defer r.closeAll()

	// Phase 1: sessions.
	var tag [4]byte
	_, _ = rand.Read(tag[:])
	r.sessions = make([]*session, cfg.Sessions)
	for i := range r.sessions {
		r.sessions[i] = &session{r: r, index: i, id: fmt.Sprintf("bench-%s-%d", hex.EncodeToString(tag[:]), i)}
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	connectStart := time.Now()
	cfg.Logf("registering %d sessions on %s", cfg.Sessions, cfg.URL)
	parallel(cctx, cfg.Sessions, cfg.Concurrency, func(i int) {
		s := r.sessions[i]
		if err := retry(cctx, cfg.Attempts, func() error { return s.connect(cctx) }); err != nil {
			r.fail("publisher", err)
		}
	})
	live := r.sessions[:0:0]
	for _, s := range r.sessions {
		if s.registered() {
			live = append(live, s)
		}
	}
	res.PublishersConnected = len(live)
	if len(live) == 0 {
		res.ConnectFailures = r.failureList()
		return res, fmt.Errorf("loadgen: no session could be registered: %v", r.failureList())
	}

	// Phase 2: viewers, after a memory baseline.
	time.Sleep(min(cfg.Settle, 500*time.Millisecond))
	before := sample()
	total := len(live) * cfg.Viewers
	cfg.Logf("connecting %d viewers (%d at a time)", total, cfg.Concurrency)
	var failed atomic.Int64
	parallel(cctx, total, cfg.Concurrency, func(i int) {
		s := live[i%len(live)]
		var v *viewer
		err := retry(cctx, cfg.Attempts, func() error {
			v = &viewer{r: r, session: s.index}
			return v.connect(cctx, s)
		})
		if err != nil {
			failed.Add(1)
			r.fail("viewer", err)
			return
		}
		s.mu.Lock()
		s.viewers = append(s.viewers, v)
		s.mu.Unlock()
	})
	res.ConnectSeconds = time.Since(connectStart).Seconds()
	for _, s := range live {
		res.ViewersConnected += len(s.viewers)
	}
	res.ViewerConnectFailures = total - res.ViewersConnected
	res.ConnectFailures = r.failureList()
	cfg.Logf("%d viewers connected, %d failed, in %.1f s", res.ViewersConnected, res.ViewerConnectFailures, res.ConnectSeconds)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	time.Sleep(cfg.Settle)
	afterConnect := sample()
	if before != nil && afterConnect != nil {
		res.Server = &ServerStats{RSSBeforeViewersKiB: before.RSSKiB, RSSAfterViewersKiB: afterConnect.RSSKiB}
		if res.ViewersConnected > 0 {
			res.Server.IdleRSSPerViewerKiB = float64(afterConnect.RSSKiB-before.RSSKiB) / float64(res.ViewersConnected)
		}
	}

	// Phase 3: publish (or hold idle), sampling the server meanwhile.
	samples := make(chan ProcSample, 1)
	stopSampling := make(chan struct{})
	if cfg.ServerPID > 0 {
		go r.sampleServer(stopSampling, samples)
	}
	self0, _ := SampleProc(0)
	cpus0, _ := SampleCPUs()
	srv0 := sample()
	start := time.Now()
	measureStart := time.Duration(0)
	var deliveredBefore int64 // deliveries of any benchmark event before the measurement
	if cfg.Rate > 0 {
		cfg.Logf("publishing %.0f events/s per session for %v (+%v warm-up)", cfg.Rate, cfg.Duration, cfg.Warmup)
		var wg sync.WaitGroup
		period := time.Duration(float64(time.Second) / cfg.Rate)
		for i, s := range live {
			offset := time.Duration(int64(period) * int64(i) / int64(len(live)))
			wg.Go(func() { s.publish(ctx, start, offset) })
		}
		// Sample the server's CPU from the end of the warm-up on.
		if cfg.Warmup > 0 {
			select {
			case <-time.After(cfg.Warmup):
			case <-ctx.Done():
			}
			self0, _ = SampleProc(0)
			cpus0, _ = SampleCPUs()
			srv0 = sample()
		}
		if cfg.Trace != nil {
			stop, err := r.startTrace()
			if err != nil {
				return nil, err
			}
			defer stop()
		}
		measureStart = time.Since(r.epoch)
		deliveredBefore = r.received.Load() + r.warmupReceived.Load()
		wg.Wait()
		r.drain(ctx, live)
	} else {
		measureStart = time.Since(r.epoch)
		cfg.Logf("holding %d idle viewers for %v", res.ViewersConnected, cfg.Duration)
		select {
		case <-time.After(cfg.Duration):
		case <-ctx.Done():
		}
	}
	srv1 := sample()
	self1, _ := SampleProc(0)
	cpus1, _ := SampleCPUs()
	holdEnd := time.Since(r.epoch)
	close(stopSampling)
	if cfg.ServerPID > 0 {
		hold := <-samples
		if res.Server == nil {
			res.Server = &ServerStats{}
		}
		res.Server.RSSMaxKiB = hold.RSSKiB
		res.Server.Threads = hold.Threads
	}
	if srv0 != nil && srv1 != nil {
		res.Server.CPUPercent = cpuPercent(*srv0, *srv1)
		res.Server.CPUSeconds = (srv1.CPU - srv0.CPU).Seconds()
		res.Server.RSSEndKiB = srv1.RSSKiB
	}
	res.LoadgenCPUPercent = cpuPercent(self0, self1)
	res.CPUBusyPercent = busyPercent(cpus0, cpus1)

	// Phase 4: close everything, then count.
	for _, s := range live {
		for _, v := range s.viewers {
			if v.conn.Err() != nil {
				v.endedEarly = true
			}
		}
	}
	r.closeAll()
	r.collect(res, live, measureStart, holdEnd, deliveredBefore)
	return res, nil
}

// drain waits until every measured event reached every viewer that was connected, or the drain
// time is over.
func (r *run) drain(ctx context.Context, live []*session) {
	var expected int64
	for _, s := range live {
		expected += s.sentMeasured * int64(len(s.viewers))
	}
	deadline := time.Now().Add(r.cfg.Drain)
	for r.received.Load() < expected && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

// sampleServer samples the server every 100 ms until stop, then sends the sample with the
// largest RSS.
func (r *run) sampleServer(stop <-chan struct{}, out chan<- ProcSample) {
	var peak ProcSample
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if s, err := SampleProc(r.cfg.ServerPID); err == nil && s.RSSKiB >= peak.RSSKiB {
			peak = s
		}
		select {
		case <-stop:
			out <- peak
			return
		case <-tick.C:
		}
	}
}

// closeAll closes every connection (once their counters are no longer needed).
func (r *run) closeAll() {
	for _, s := range r.sessions {
		if s == nil {
			continue
		}
		for _, v := range s.viewers {
			v.conn.Close()
		}
		if s.conn != nil {
			s.conn.Close()
		}
		if s.child != nil {
			s.child.close()
		}
	}
}

func (r *run) failureList() []string {
	r.failMu.Lock()
	defer r.failMu.Unlock()
	out := make([]string, 0, len(r.failures))
	for k, n := range r.failures {
		out = append(out, fmt.Sprintf("%dx %s", n, k))
	}
	sort.Strings(out)
	return out
}

// collect fills in the counts and the latency summary; all connections are closed.
func (r *run) collect(res *Result, live []*session, measureStart, holdEnd time.Duration, deliveredBefore int64) {
	for _, s := range live {
		res.Planned += s.planned
		res.Sent += s.sent
		res.SentMeasured += s.sentMeasured
		res.PublisherMaxBlockMs = max(res.PublisherMaxBlockMs, float64(s.maxBlock)/float64(time.Millisecond))
		res.PublisherMaxEmitMs = max(res.PublisherMaxEmitMs, float64(s.maxEmit)/float64(time.Millisecond))
		res.PublisherMaxLateMs = max(res.PublisherMaxLateMs, float64(s.maxLate)/float64(time.Millisecond))
		res.Acked += s.acked.Load()
		res.PublisherErrors += s.errors.Load()
		if msg := s.lastError.Load(); msg != nil {
			res.LastPublisherError = *msg
		}
		if s.sendErr != nil {
			res.PublishersFailed++
		}
		res.Expected += s.sentMeasured * int64(len(s.viewers))
		for _, v := range s.viewers {
			res.Duplicates += v.duplicates
			res.OutOfOrder += v.outOfOrder
			res.Gaps += v.gaps
			res.Malformed += v.malformed
			res.ViewerErrorEvents += v.errors
			if v.endedEarly {
				res.ViewersDropped++
			}
		}
	}
	res.SlowThreshold = r.cfg.SlowThreshold
	res.Slow, res.SlowDropped = r.slow.sorted()
	res.SlowDeliveries = int64(len(res.Slow)) + res.SlowDropped
	res.Received = r.received.Load()
	res.WarmupReceived = r.warmupReceived.Load()
	res.Lost = res.Expected - res.Received
	end := max(r.lastSend.Load(), r.lastRecv.Load())
	if r.cfg.Rate == 0 {
		end = int64(holdEnd)
	}
	window := time.Duration(end) - measureStart
	res.MeasuredSeconds = window.Seconds()
	// Under overload the relay is still delivering warm-up events during the measurement, so
	// throughput and CPU per delivery count every benchmark event delivered in the window.
	res.DeliveredInWindow = res.Received + res.WarmupReceived - deliveredBefore
	if window > 0 && r.cfg.Rate > 0 {
		res.DeliveriesPerSecond = float64(res.DeliveredInWindow) / window.Seconds()
	}
	res.OfferedPerSecond = r.cfg.Rate * float64(res.ViewersConnected)
	h := &r.hist
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	res.Latency = LatencyMillis{
		P50: ms(h.Quantile(0.50)), P90: ms(h.Quantile(0.90)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Max()), Mean: ms(h.Mean()),
	}
	if res.Server != nil && res.DeliveredInWindow > 0 {
		res.Server.CPUMicrosPerDelivery = res.Server.CPUSeconds * 1e6 / float64(res.DeliveredInWindow)
	}
	if len(res.CPUBusyPercent) > 0 {
		other := -res.LoadgenCPUPercent
		for _, b := range res.CPUBusyPercent {
			other += b
		}
		if res.Server != nil {
			other -= res.Server.CPUPercent
		}
		res.OtherCPUPercent = max(0, other)
	}
}
