package types

// Patched by pizzapi (see third_party/socket.io-v3/PATCH.md): an emitter keeps its events in a
// small slice under a mutex, each event's listeners in a slice that is replaced, never changed,
// instead of a concurrent Map of concurrent Slices; a listener added with Once is one entry
// with a flag, not a wrapper with its own sync.Once. Every Engine.IO and Socket.IO socket has
// several emitters with a few events each, and the concurrent structures cost about 4 KiB per
// connection; Emit no longer copies the listeners either. The behaviour is unchanged.

import (
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/zishang520/socket.io/v3/pkg/log"
)

const (
	// Version current version number
	EventVersion = "0.0.3"
)

var eventsLog = log.NewLog("engine:events")

type (
	// EventName is just a type of string, it's the event name
	EventName string
	// Listener is the type of a Listener, it's a func which receives any,optional, arguments from the caller/emmiter
	EventListener func(...any)
	// Events the type for registered listeners, it's just a map[string][]func(...any)
	Events map[EventName][]EventListener
	// EventEmitter is the message/or/event manager
	EventEmitter interface {
		// AddListener is an alias for .On(eventName, listener).
		AddListener(EventName, ...EventListener) error
		// Emit fires a particular event,
		// Synchronously calls each of the listeners registered for the event named
		// eventName, in the order they were registered,
		// passing the supplied arguments to each.
		Emit(EventName, ...any)
		// EventNames returns an array listing the events for which the emitter has registered listeners.
		// The values in the array will be strings.
		EventNames() []EventName
		// ListenerCount returns the length of all registered listeners to a particular event
		ListenerCount(EventName) int
		// Listeners returns a copy of the array of listeners for the event named eventName.
		Listeners(EventName) []EventListener
		// On registers a particular listener for an event, func receiver parameter(s) is/are optional
		On(EventName, ...EventListener) error
		// Once adds a one time listener function for the event named eventName.
		// The next time eventName is triggered, this listener is removed and then invoked.
		Once(EventName, ...EventListener) error
		// RemoveAllListeners removes all listeners, or those of the specified eventName.
		// Note that it will remove the event itself.
		// Returns an indicator if event and listeners were found before the remove.
		RemoveAllListeners(EventName) bool
		// RemoveListener removes given listener from the event named eventName.
		// Returns an indicator whether listener was removed
		RemoveListener(EventName, EventListener) bool
		// Clear removes all events and all listeners, restores Events to an empty value
		Clear()
		// Len returns the length of all registered events
		Len() int
	}

	eventEntry struct {
		fn  EventListener
		ptr uintptr
		// once marks a listener added with Once: the first Emit that reaches it (fired) removes
		// it and runs it, later ones skip it.
		once  bool
		fired atomic.Bool
	}

	// eventListeners is one event's listeners, in the order they were added. The slice is
	// never modified once stored (it is replaced), so Emit may call the listeners of the one
	// it loaded while others are added or removed.
	eventListeners struct {
		evt       EventName
		listeners []*eventEntry
	}

	emmiter struct {
		mu sync.RWMutex
		// events holds the events in the order they were first added, found by a linear
		// search: an emitter has a few events, and a slice costs a fraction of a map. An event
		// stays listed (EventNames, Len) once it had listeners, until RemoveAllListeners or
		// Clear, as upstream.
		events []eventListeners
	}
)

// CopyTo copies the event listeners to an EventEmitter
func (e Events) CopyTo(emitter EventEmitter) {
	if len(e) > 0 {
		// register the events to/with their listeners
		for evt, listeners := range e {
			if len(listeners) > 0 {
				_ = emitter.AddListener(evt, listeners...)
			}
		}
	}
}

// New returns a new, empty, EventEmitter
func NewEventEmitter() EventEmitter {
	return &emmiter{}
}

// load returns the listeners of evt; the caller must not modify the slice.
func (e *emmiter) load(evt EventName) ([]*eventEntry, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if i := e.index(evt); i >= 0 {
		return e.events[i].listeners, true
	}
	return nil, false
}

// index returns the position of evt in events, or -1; the caller holds mu.
func (e *emmiter) index(evt EventName) int {
	for i := range e.events {
		if e.events[i].evt == evt {
			return i
		}
	}
	return -1
}

func (e *emmiter) addListeners(evt EventName, listeners []*eventEntry) error {
	if len(listeners) == 0 {
		return nil
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.index(evt)
	if i < 0 {
		// Grown to the exact length: an emitter's events are added once, at setup, and
		// append's doubling left a third of the slice unused for the emitter's life.
		events := make([]eventListeners, len(e.events), len(e.events)+1)
		copy(events, e.events)
		e.events = append(events, eventListeners{evt: evt, listeners: listeners})
		return nil
	}
	old := e.events[i].listeners
	l := make([]*eventEntry, 0, len(old)+len(listeners))
	e.events[i].listeners = append(append(l, old...), listeners...)
	return nil
}

// newEntries returns the entries of the non-nil listeners.
func newEntries(listeners []EventListener, once bool) []*eventEntry {
	events := make([]*eventEntry, 0, len(listeners))
	for _, fn := range listeners {
		if fn != nil {
			events = append(events, &eventEntry{fn: fn, ptr: reflect.ValueOf(fn).Pointer(), once: once})
		}
	}
	return events
}

func (e *emmiter) AddListener(evt EventName, listeners ...EventListener) error {
	if len(listeners) == 0 {
		return nil
	}
	return e.addListeners(evt, newEntries(listeners, false))
}

// Alias: [AddListener]
func (e *emmiter) On(evt EventName, listeners ...EventListener) error {
	return e.AddListener(evt, listeners...)
}

func (e *emmiter) Emit(evt EventName, data ...any) {
	listeners, _ := e.load(evt)
	for _, event := range listeners {
		e.call(evt, event, data)
	}
}

// call runs one listener of evt, recovering a panic; a listener added with Once is removed
// first, and runs only the first time.
func (e *emmiter) call(evt EventName, event *eventEntry, data []any) {
	if event.once {
		if !event.fired.CompareAndSwap(false, true) {
			return
		}
		// Removed before it runs, so that a reentrant Emit does not reach it again.
		e.removeEntry(evt, func(l *eventEntry) bool { return l == event })
	}
	defer func() {
		if r := recover(); r != nil {
			// Prevent a panicking listener from crashing the emitter.
			eventsLog.Errorf("event listener panic recovered: %v\n%s", r, debug.Stack())
		}
	}()
	event.fn(data...)
}

func (e *emmiter) EventNames() []EventName {
	e.mu.RLock()
	defer e.mu.RUnlock()
	names := make([]EventName, 0, len(e.events))
	for _, l := range e.events {
		names = append(names, l.evt)
	}
	return names
}

func (e *emmiter) ListenerCount(evt EventName) int {
	listeners, _ := e.load(evt)
	return len(listeners)
}

func (e *emmiter) Listeners(evt EventName) []EventListener {
	datas, ok := e.load(evt)
	if !ok {
		return nil
	}

	listeners := make([]EventListener, len(datas))
	for i, l := range datas {
		listeners[i] = l.fn
		if l.once {
			// As upstream, a listener added with Once is returned as a function that removes
			// it and runs it, the first time only.
			listeners[i] = func(vals ...any) {
				if l.fired.CompareAndSwap(false, true) {
					e.removeEntry(evt, func(x *eventEntry) bool { return x == l })
					l.fn(vals...)
				}
			}
		}
	}

	return listeners
}

func (e *emmiter) Once(evt EventName, listeners ...EventListener) error {
	if len(listeners) == 0 {
		return nil
	}
	return e.addListeners(evt, newEntries(listeners, true))
}

// removeEntry removes the first listener of evt that match returns true for, and reports
// whether there was one.
func (e *emmiter) removeEntry(evt EventName, match func(*eventEntry) bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.index(evt)
	if i < 0 {
		return false
	}
	old := e.events[i].listeners
	for j, l := range old {
		if match(l) {
			e.events[i].listeners = append(append(make([]*eventEntry, 0, len(old)-1), old[:j]...), old[j+1:]...)
			return true
		}
	}
	return false
}

// RemoveListener removes the specified listener from the listener array for the event named eventName.
func (e *emmiter) RemoveListener(evt EventName, listener EventListener) bool {
	if listener == nil {
		return false
	}
	targetPtr := reflect.ValueOf(listener).Pointer()
	return e.removeEntry(evt, func(l *eventEntry) bool { return l.ptr == targetPtr })
}

func (e *emmiter) RemoveAllListeners(evt EventName) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.index(evt)
	if i < 0 {
		return false
	}
	e.events = slices.Delete(e.events, i, i+1)
	return true
}

func (e *emmiter) Clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.events)
	e.events = e.events[:0]
}

func (e *emmiter) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.events)
}
