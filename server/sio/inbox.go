package sio

import (
	"bytes"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"

	"github.com/pizzapi/pizzapi/server/bus"
)

// maxInboxBytes bounds the events a socket has received and not yet handled. A publisher that
// sends faster than its events are fanned out is not held back until this much waits (tens of
// thousands of ordinary events, seconds of overload), so that a burst never blocks it; past it,
// the connection's reader waits for room, which holds the client back through TCP instead of
// growing the relay's memory without bound. An event larger than the bound is taken when the
// inbox is empty. This is the last resort: long before, the wait of the events (bus.Pressure)
// makes the handlers shed the session's viewers furthest behind.
const maxInboxBytes = 16 << 20

// packetOverhead approximates what a queued event costs besides its arguments: the packet, its
// argument slice and the queued closure.
const packetOverhead = 256

// maxCompacted is the largest argument that gets its own copy when its event is queued.
const maxCompacted = 64 << 10

// inbox is a socket's queue of incoming events: it implements sioparser.Sink and runs the queued
// work one item at a time on a goroutine that exists only while there is work.
type inbox struct {
	handle     func(*parser.Packet)
	clientLeft atomic.Bool
	limit      int64 // maxInboxBytes when 0
	// pressure is told the wait of each event before its handler runs; the handlers publish
	// with it.
	pressure bus.Pressure
	// heldBack, if set, is told how long the reader waited for room.
	heldBack func(time.Duration)
	// waited, if set, is told how long each event waited in the inbox before its handler ran.
	waited func(time.Duration)
	// clock, if set, replaces time.Now for the events' waits (tests).
	clock func() time.Time

	mu      sync.Mutex
	room    *sync.Cond // signalled when queued work was done
	work    []queued
	bytes   int64 // the size of the queued events
	running bool
}

// queued is one item of work, the size it counts for and, for an event, when it was queued.
type queued struct {
	fn    func()
	bytes int64
	at    time.Time
}

// Packet implements sioparser.Sink: it queues the event, first waiting while the inbox is full.
func (in *inbox) Packet(p *parser.Packet) {
	n := compact(p)
	limit := in.bound()
	in.mu.Lock()
	var start time.Time
	for in.bytes > 0 && in.bytes+n > limit {
		if in.room == nil {
			in.room = sync.NewCond(&in.mu)
		}
		if start.IsZero() {
			start = time.Now()
		}
		in.room.Wait()
	}
	in.pushLocked(queued{fn: func() { in.handle(p) }, bytes: n, at: in.now()})
	in.mu.Unlock()
	if !start.IsZero() && in.heldBack != nil {
		in.heldBack(time.Since(start))
	}
}

// ClientDisconnect implements sioparser.Sink.
func (in *inbox) ClientDisconnect() { in.clientLeft.Store(true) }

// push queues work that never waits for room (the disconnect).
func (in *inbox) push(fn func()) {
	in.mu.Lock()
	in.pushLocked(queued{fn: fn})
	in.mu.Unlock()
}

// now returns the time by the inbox's clock.
func (in *inbox) now() time.Time {
	if in.clock == nil {
		return time.Now()
	}
	return in.clock()
}

// bound returns the most the inbox holds before the reader waits.
func (in *inbox) bound() int64 {
	if in.limit == 0 {
		return maxInboxBytes
	}
	return in.limit
}

func (in *inbox) pushLocked(q queued) {
	in.work = append(in.work, q)
	in.bytes += q.bytes
	if !in.running {
		in.running = true
		go in.run()
	}
}

func (in *inbox) run() {
	for {
		in.mu.Lock()
		if len(in.work) == 0 {
			in.running = false
			in.work = nil
			in.mu.Unlock()
			return
		}
		q := in.work[0]
		in.work[0] = queued{}
		in.work = in.work[1:]
		in.mu.Unlock()
		if !q.at.IsZero() {
			now := in.now()
			wait := now.Sub(q.at)
			in.pressure.Waited(wait, now)
			if in.waited != nil {
				in.waited(wait)
			}
		}
		q.fn()
		if q.bytes > 0 {
			in.mu.Lock()
			in.bytes -= q.bytes
			if in.room != nil {
				in.room.Broadcast()
			}
			in.mu.Unlock()
		}
	}
}

// compact gives each argument of an event up to maxCompacted bytes its own copy, and returns
// what the queued event holds: its arguments' memory and packetOverhead. The parser's arguments
// are slices of the buffer the engine decoded the message into, which it grows in 512-byte steps
// (1 KiB for a typical 300-byte event), so that a queued event would otherwise hold three times
// its size; the copy costs one small allocation per received event, against the thousand writes
// of its fan-out.
func compact(p *parser.Packet) int64 {
	n := int64(packetOverhead)
	args, ok := p.Data.([]any)
	if !ok {
		return n
	}
	for i, a := range args {
		raw, ok := a.(json.RawMessage)
		if !ok {
			continue
		}
		if len(raw) <= maxCompacted {
			raw = bytes.Clone(raw)
			args[i] = raw
		}
		n += int64(cap(raw))
	}
	return n
}
