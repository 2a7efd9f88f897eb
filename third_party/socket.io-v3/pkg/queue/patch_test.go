package queue

import (
	"testing"
	"time"
)

// kept keeps a new queue on the heap, as its owners do.
var kept *Queue

// TestNewAllocatesOnlyTheQueue: a queue that is never closed costs one allocation; its done
// channel is made by the first shutdown (PATCH.md).
func TestNewAllocatesOnlyTheQueue(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { kept = New() }); n != 1 {
		t.Fatalf("New allocates %v times, want 1", n)
	}
}

// TestCloseWaitsForQueuedTasks: Close returns after the tasks queued before it ran, also on a
// queue that never ran a task, and a second Close or TryClose returns at once.
func TestCloseWaitsForQueuedTasks(t *testing.T) {
	New().Close()

	q := New()
	release := make(chan struct{})
	ran := make(chan int, 2)
	q.Enqueue(func() { <-release; ran <- 1 })
	q.Enqueue(func() { ran <- 2 })
	closed := make(chan struct{})
	go func() { q.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned before the queued tasks ran")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-closed
	if len(ran) != 2 {
		t.Fatalf("%d tasks ran before Close returned, want 2", len(ran))
	}
	q.TryClose()
	q.Close()
	q.Enqueue(func() { t.Error("a task queued after Close ran") })
}
