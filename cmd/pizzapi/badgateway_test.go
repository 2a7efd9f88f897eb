package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// busy keeps the machine's CPUs busy (two spinning goroutines per CPU) until the test ends.
func busy(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 * runtime.NumCPU() {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				for range 100_000 {
					n ^= n << 1
				}
			}
		})
	}
	t.Cleanup(func() {
		stop()
		wg.Wait()
	})
}

// TestReconnectThroughBadGatewayWhileBusy: both relay nodes behind nginx are restarted at once
// while the machine is busy, so that nginx answers 502 to the clients' reconnection attempts
// while no node listens. The clients keep trying (every one gets several 502s, attempts follow
// their backoff schedule instead of stalling), and once the nodes are back each client connects
// again by its first or second attempt: nginx does not keep a node that is back out of the
// rotation (which it did with its default passive health check, max_fails=1).
func TestReconnectThroughBadGatewayWhileBusy(t *testing.T) {
	pc := startProcessCluster(t, 2, true)
	u := remoteUser(t, pc.lb, "badgateway")
	hubs := make([]*hubWatcher, 8)
	for i := range hubs {
		hubs[i] = dialHub(t, pc.lb, u)
	}
	waitFor(t, 20*time.Second, "the hubs to connect", func() bool {
		for _, h := range hubs {
			if !h.c.Connected() {
				return false
			}
		}
		return true
	})
	busy(t)

	down := time.Now()
	for _, p := range pc.nodes {
		p.terminate(t)
	}
	badGateways := func(h *hubWatcher) int {
		h.mu.Lock()
		defer h.mu.Unlock()
		n := 0
		for _, e := range h.errs {
			if strings.Contains(e, "bad handshake") { // the websocket upgrade got no 101: nginx's 502
				n++
			}
		}
		return n
	}
	waitFor(t, 60*time.Second, "every hub to get three 502s from nginx", func() bool {
		for _, h := range hubs {
			if badGateways(h) < 3 {
				return false
			}
		}
		return true
	})
	for _, p := range pc.nodes {
		p.start(t)
	}
	for _, p := range pc.nodes {
		p.waitReady(t)
	}
	back := time.Now()
	waitFor(t, 60*time.Second, "the hubs to reconnect", func() bool {
		for _, h := range hubs {
			if !h.c.Connected() {
				return false
			}
		}
		return true
	})

	var notes []string
	for i, h := range hubs {
		h.mu.Lock()
		var longest time.Duration
		prev := down
		for _, f := range h.failures {
			if f.After(down) {
				longest = max(longest, f.Sub(prev))
				prev = f
			}
		}
		late := 0 // attempts that failed after the nodes were back
		for _, f := range h.failures {
			if f.After(back) {
				late++
			}
		}
		reconnected := h.connects[len(h.connects)-1].Sub(back)
		notes = append(notes, fmt.Sprintf("hub %d: %d failed attempts, longest gap %v, back %v after the nodes", i, len(h.failures), longest.Round(time.Millisecond), reconnected.Round(time.Millisecond)))
		if late > 1 {
			t.Errorf("hub %d: %d attempts failed after the nodes were back: %v", i, late, h.errs)
		}
		h.mu.Unlock()
	}
	t.Logf("nodes down for %v:\n%s", back.Sub(down).Round(time.Millisecond), strings.Join(notes, "\n"))
}
