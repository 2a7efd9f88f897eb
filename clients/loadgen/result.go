package loadgen

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Result is what a run measured. Counts of events are per delivery (one event reaching one
// viewer) unless they say otherwise.
type Result struct {
	URL               string  `json:"url"`
	Sessions          int     `json:"sessions"`
	ViewersPerSession int     `json:"viewersPerSession"`
	Rate              float64 `json:"rate"` // events/s per session
	PayloadBytes      int     `json:"payloadBytes"`
	WarmupSeconds     float64 `json:"warmupSeconds"`

	PublishersConnected   int      `json:"publishersConnected"`
	ViewersConnected      int      `json:"viewersConnected"`
	ViewerConnectFailures int      `json:"viewerConnectFailures"`
	ConnectFailures       []string `json:"connectFailures,omitempty"`
	ConnectSeconds        float64  `json:"connectSeconds"`

	// Planned, Sent and SentMeasured count published events (not deliveries); Planned is what
	// the schedule asked for, SentMeasured excludes the warm-up. Acked is the sum of the
	// sessions' highest event_ack.
	Planned          int64 `json:"planned"`
	Sent             int64 `json:"sent"`
	SentMeasured     int64 `json:"sentMeasured"`
	Acked            int64 `json:"acked"`
	PublishersFailed int   `json:"publishersFailed"`
	PublisherErrors  int64 `json:"publisherErrors"`
	// PublisherMaxBlockMs is the longest one event's write waited for room in the socket's send
	// buffer: how long the relay held a publisher back (TCP back-pressure). PublisherMaxEmitMs
	// is the longest one event took to write, which also counts the time the publishing
	// goroutine waited for a processor of the load generator; PublisherMaxLateMs is the longest
	// an event went out after its scheduled time (a publisher held back, or one that did not get
	// a processor in time).
	PublisherMaxBlockMs float64 `json:"publisherMaxBlockMs"`
	PublisherMaxEmitMs  float64 `json:"publisherMaxEmitMs"`
	PublisherMaxLateMs  float64 `json:"publisherMaxLateMs"`
	LastPublisherError  string  `json:"lastPublisherError,omitempty"`

	// Expected is SentMeasured times the viewers of each session; Received counts measured
	// events delivered in sequence order, each once; Lost is the difference: events not
	// delivered by the end of the drain.
	Expected          int64 `json:"expected"`
	Received          int64 `json:"received"`
	Lost              int64 `json:"lost"`
	WarmupReceived    int64 `json:"warmupReceived"`
	Duplicates        int64 `json:"duplicates"`
	OutOfOrder        int64 `json:"outOfOrder"`
	Gaps              int64 `json:"gaps"` // sequence numbers skipped (warm-up included)
	Malformed         int64 `json:"malformed"`
	ViewerErrorEvents int64 `json:"viewerErrorEvents"`
	ViewersDropped    int   `json:"viewersDropped"` // viewer connections that ended during the run

	// MeasuredSeconds runs from the end of the warm-up to the last delivery (or the end of
	// publishing); DeliveredInWindow counts the deliveries of any benchmark event in it (warm-up
	// events still in flight included), and DeliveriesPerSecond is their rate.
	MeasuredSeconds float64 `json:"measuredSeconds"`
	// SlowDeliveries counts the measured deliveries at least SlowThreshold late (with
	// Config.SlowThreshold set); Slow lists them in the order they were read, up to
	// MaxSlowDeliveries (SlowDropped did not fit). WriteSlowLog prints the list.
	SlowThreshold       time.Duration  `json:"-"`
	SlowDeliveries      int64          `json:"slowDeliveries,omitempty"`
	SlowDropped         int64          `json:"-"`
	Slow                []SlowDelivery `json:"-"`
	DeliveredInWindow   int64          `json:"deliveredInWindow"`
	DeliveriesPerSecond float64        `json:"deliveriesPerSecond"`
	OfferedPerSecond    float64        `json:"offeredPerSecond"`
	Latency             LatencyMillis  `json:"latencyMs"`

	Server            *ServerStats `json:"server,omitempty"`
	LoadgenCPUPercent float64      `json:"loadgenCpuPercent"`
	// CPUBusyPercent is how busy each CPU of the machine was during the hold (all processes,
	// interrupts included): a CPU near 100 % that the relay or the load generator is pinned to
	// means that side was the bottleneck, and busy time not explained by the two is other load.
	CPUBusyPercent []float64 `json:"cpuBusyPercent,omitempty"`
	// OtherCPUPercent is the machine's busy time not used by the relay or the load generator
	// (other processes, and interrupt time not charged to either): high values mean a noisy run.
	OtherCPUPercent float64 `json:"otherCpuPercent"`
}

// LatencyMillis summarises the delivery latencies (send to receive) in milliseconds.
type LatencyMillis struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// ServerStats is what was sampled from the relay process (with ServerPID).
type ServerStats struct {
	CPUPercent           float64 `json:"cpuPercent"` // of one core, from the end of the warm-up to the end of the drain
	CPUSeconds           float64 `json:"cpuSeconds"`
	CPUMicrosPerDelivery float64 `json:"cpuMicrosPerDelivery"`
	RSSBeforeViewersKiB  int64   `json:"rssBeforeViewersKiB"`
	RSSAfterViewersKiB   int64   `json:"rssAfterViewersKiB"`
	IdleRSSPerViewerKiB  float64 `json:"idleRssPerViewerKiB"`
	RSSMaxKiB            int64   `json:"rssMaxKiB"` // during the hold
	RSSEndKiB            int64   `json:"rssEndKiB"`
	Threads              int64   `json:"threads"`
}

// WriteText prints the result for people.
func (r *Result) WriteText(w io.Writer) {
	p := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-12s %s\n", label, fmt.Sprintf(format, args...))
	}
	p("relay", "%s", r.URL)
	p("sessions", "%d registered of %d, %d viewers each", r.PublishersConnected, r.Sessions, r.ViewersPerSession)
	p("viewers", "%d connected, %d failed (%.1f s to connect), %d dropped during the run", r.ViewersConnected, r.ViewerConnectFailures, r.ConnectSeconds, r.ViewersDropped)
	for _, f := range r.ConnectFailures {
		p("", "  %s", f)
	}
	if r.Rate > 0 {
		p("load", "%g events/s per session, %d-byte events, after %.1f s warm-up", r.Rate, r.PayloadBytes, r.WarmupSeconds)
		p("sent", "%d measured events (%d in all, %d planned, %d acked)", r.SentMeasured, r.Sent, r.Planned, r.Acked)
		p("publisher", "held back by the relay at most %.1f ms per event; longest send %.1f ms, at most %.1f ms behind schedule", r.PublisherMaxBlockMs, r.PublisherMaxEmitMs, r.PublisherMaxLateMs)
		if r.PublisherErrors > 0 || r.PublishersFailed > 0 {
			p("", "publisher errors %d, publishers failed %d %s", r.PublisherErrors, r.PublishersFailed, r.LastPublisherError)
		}
		p("expected", "%d deliveries (sent x viewers)", r.Expected)
		p("received", "%d, lost %d (not delivered by the end of the drain), duplicates %d, out of order %d, gaps %d", r.Received, r.Lost, r.Duplicates, r.OutOfOrder, r.Gaps)
		p("throughput", "%s deliveries/s over %.1f s (offered %s/s)", thousands(r.DeliveriesPerSecond), r.MeasuredSeconds, thousands(r.OfferedPerSecond))
		l := r.Latency
		p("latency", "p50 %s  p90 %s  p99 %s  p99.9 %s  max %s ms", fms(l.P50), fms(l.P90), fms(l.P99), fms(l.P999), fms(l.Max))
		if r.SlowThreshold > 0 {
			p("slow", "%d deliveries at least %v late", r.SlowDeliveries, r.SlowThreshold)
		}
	} else {
		p("load", "idle hold of %.1f s", r.MeasuredSeconds)
	}
	if s := r.Server; s != nil {
		if r.Rate > 0 {
			p("server CPU", "%.1f %% of a core, %.2f us per delivery", s.CPUPercent, s.CPUMicrosPerDelivery)
		} else {
			p("server CPU", "%.1f %% of a core", s.CPUPercent)
		}
		p("server RSS", "%s max during the hold, %s at the end, %d threads", mib(s.RSSMaxKiB), mib(s.RSSEndKiB), s.Threads)
		p("idle RSS", "%s before viewers, %s after: %.1f KiB per viewer", mib(s.RSSBeforeViewersKiB), mib(s.RSSAfterViewersKiB), s.IdleRSSPerViewerKiB)
	}
	busy := make([]string, len(r.CPUBusyPercent))
	for i, b := range r.CPUBusyPercent {
		busy[i] = fmt.Sprintf("cpu%d %.0f %%", i, b)
	}
	p("loadgen CPU", "%.1f %% of a core; machine busy: %s; other load %.0f %%", r.LoadgenCPUPercent, strings.Join(busy, ", "), r.OtherCPUPercent)
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func fms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// thousands formats a rate with thousands separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
