package wstransport

import (
	"runtime"
	"sync"
)

// pool is the set of writer goroutines shared by the connections: a connection with frames
// queued waits in line (ready) and a writer takes it, writes what it has queued without blocking
// on the network, and puts it back at the end of the line if more was queued meanwhile. At most
// max writers run, about one per processor, and none while nothing is queued: the first frame
// queued on an idle relay starts a writer at once, so that low-load latency is that of a
// goroutine per connection.
//
// With a goroutine per connection, each event fanned out to a thousand viewers made up to a
// thousand writers runnable at once, each writing a few frames; the pool keeps the runnable
// writers to a few, each connection gets one write per turn, and a connection that has fallen
// behind gets its frames in larger writes rather than more goroutines.
type pool struct {
	mu      sync.Mutex
	ready   []*transport // connections waiting for a writer, in order, from head
	head    int
	running int // writers running
	max     int
	// run is p.work, bound once: `go p.work()` allocates a closure for every writer started,
	// and on a relay that is not saturated one starts for nearly every event.
	run func()
}

// writers is the pool of the process's connections.
var writers = newPool(max(1, runtime.GOMAXPROCS(0)))

// newPool returns a pool of at most max writers.
func newPool(max int) *pool {
	p := &pool{max: max}
	p.run = p.work
	return p
}

// push puts a connection at the end of the line and starts a writer unless max run.
func (p *pool) push(t *transport) {
	p.mu.Lock()
	p.ready = append(p.ready, t)
	start := p.running < p.max
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go p.run()
	}
}

// next takes the connection at the head of the line, or ends the writer (reports false) when
// the line is empty.
func (p *pool) next() (*transport, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head == len(p.ready) {
		clear(p.ready[:p.head])
		p.ready, p.head = p.ready[:0], 0
		p.running--
		return nil, false
	}
	t := p.ready[p.head]
	p.ready[p.head] = nil
	p.head++
	// Under sustained load the line never empties: move it to the front of its array once the
	// taken part is the larger half, so that it does not grow without bound.
	if p.head >= 1024 && 2*p.head >= len(p.ready) {
		n := copy(p.ready, p.ready[p.head:])
		clear(p.ready[n:])
		p.ready, p.head = p.ready[:n], 0
	}
	return t, true
}

// work is one writer: it serves connections until none waits.
func (p *pool) work() {
	for {
		t, ok := p.next()
		if !ok {
			return
		}
		if t.serve() {
			p.push(t)
		}
	}
}
