package metrics

import (
	"testing"
	"time"
)

// TestInboxWait: the waits observed for a namespace's sockets show up in its histogram.
func TestInboxWait(t *testing.T) {
	m := New(nil)
	observe := m.InboxWait("/relay")
	observe(3 * time.Millisecond)
	observe(2 * time.Second)
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "pizzapi_inbox_wait_seconds" {
			continue
		}
		if len(f.GetMetric()) != 1 {
			t.Fatalf("%d series, want 1", len(f.GetMetric()))
		}
		s := f.GetMetric()[0]
		h := s.GetHistogram()
		if l := s.GetLabel(); len(l) != 1 || l[0].GetValue() != "/relay" || h.GetSampleCount() != 2 || h.GetSampleSum() != 2.003 {
			t.Fatalf("series %v: count %d, sum %v", l, h.GetSampleCount(), h.GetSampleSum())
		}
		return
	}
	t.Fatal("no pizzapi_inbox_wait_seconds")
}
