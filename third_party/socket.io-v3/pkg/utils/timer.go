package utils

// Patched by pizzapi (see third_party/socket.io-v3/PATCH.md): a Timer is a time.AfterFunc timer
// instead of a goroutine parked on a time.Timer's channel, so that a pending timeout (the
// Engine.IO ping timer of every connection, acknowledgement and connect timeouts) costs a runtime
// timer, not a goroutine and its stack. The exported API and its semantics are unchanged.

import (
	"math"
	"runtime"
	"time"
)

type Timer struct {
	timer *time.Timer
	sleep time.Duration
}

// Refresh restarts the timer: its function runs once more after the timer's duration, whether
// it already ran, is pending or was stopped.
func (t *Timer) Refresh() *Timer {
	t.timer.Reset(t.sleep)
	return t
}

// Unref stops the timer once nothing refers to the Timer any more.
func (t *Timer) Unref() {
	runtime.AddCleanup(t, func(timer *time.Timer) {
		timer.Stop()
	}, t.timer)
}

// SetTimeout runs fn in its own goroutine after sleep, unless the timer is stopped first.
func SetTimeout(fn func(), sleep time.Duration) *Timer {
	return &Timer{timer: time.AfterFunc(sleep, fn), sleep: sleep}
}

func ClearTimeout(timer *Timer) {
	if timer != nil {
		timer.Stop()
	}
}

// Stop stops the timer; a function already started keeps running.
func (t *Timer) Stop() {
	t.timer.Stop()
}

// SetInterval runs fn in its own goroutine every sleep until the timer is stopped.
func SetInterval(fn func(), sleep time.Duration) *Timer {
	// Created stopped and started once the variable the function reads is set; the function
	// refers to the time.Timer only, so that Unref can still see the Timer become unreachable.
	var timer *time.Timer
	timer = time.AfterFunc(math.MaxInt64, func() {
		timer.Reset(sleep)
		fn()
	})
	timer.Reset(sleep)
	return &Timer{timer: timer, sleep: sleep}
}

func ClearInterval(timer *Timer) {
	ClearTimeout(timer)
}
