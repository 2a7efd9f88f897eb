package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestSlowLogThresholdAndBound(t *testing.T) {
	var off slowLog
	off.note(time.Second, time.Hour, 1)
	if l, d := off.sorted(); len(l) != 0 || d != 0 {
		t.Fatalf("without a threshold: %v, %d dropped", l, d)
	}

	l := slowLog{threshold: 2 * time.Millisecond}
	l.note(3*time.Second, time.Millisecond, 0) // below the threshold
	l.note(2*time.Second, 2*time.Millisecond, 7)
	l.note(1*time.Second, 5*time.Millisecond, 3)
	got, dropped := l.sorted()
	want := []SlowDelivery{{At: time.Second, Latency: 5 * time.Millisecond, Session: 3}, {At: 2 * time.Second, Latency: 2 * time.Millisecond, Session: 7}}
	if dropped != 0 || len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v (%d dropped), want %v", got, dropped, want)
	}

	for i := range MaxSlowDeliveries + 10 {
		l.note(time.Duration(i), time.Second, 0)
	}
	if got, dropped := l.sorted(); len(got) != MaxSlowDeliveries || dropped != 12 {
		t.Fatalf("bound: kept %d, dropped %d", len(got), dropped)
	}
}

func TestWriteSlowLog(t *testing.T) {
	res := &Result{SlowThreshold: 2 * time.Millisecond, SlowDropped: 4, Slow: []SlowDelivery{
		{At: 1500 * time.Millisecond, Latency: 2500 * time.Microsecond, Session: 12},
	}}
	var b strings.Builder
	if err := WriteSlowLog(&b, res); err != nil {
		t.Fatal(err)
	}
	want := "# at_s latency_ms session (deliveries over 2ms; 4 not kept)\n1.500000 2.500 12\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}
