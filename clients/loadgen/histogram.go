package loadgen

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram buckets: values below 256 ns are exact; above, each power of two is split into 128
// buckets, so a bucket is at most 1/128 (0.8 %) wide relative to its value.
const (
	histExact = 256
	histSub   = 128
	// histBuckets covers every non-negative int64.
	histBuckets = histExact + 56*histSub
)

// Histogram records durations (in nanoseconds) with under 1 % relative error. Record is safe
// for concurrent use and does not allocate; a Histogram must not be copied after first use.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64
	max    atomic.Int64
}

func bucketOf(v int64) int {
	if v < histExact {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - 8 // v >> shift is in [128, 256)
	return histExact + (shift-1)*histSub + int(v>>shift) - histSub
}

// bucketLow returns the smallest value of bucket i.
func bucketLow(i int) int64 {
	if i < histExact {
		return int64(i)
	}
	i -= histExact
	shift := i/histSub + 1
	return int64(i%histSub+histSub) << shift
}

// bucketMid returns a representative value of bucket i: the middle of its range.
func bucketMid(i int) int64 {
	if i < histExact {
		return int64(i)
	}
	shift := (i-histExact)/histSub + 1
	return bucketLow(i) + (int64(1)<<shift)/2
}

// Record adds one duration; negative values count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(uint64(v))
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns how many values were recorded.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max returns the largest value recorded.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Mean returns the average of the values recorded (0 when there are none).
func (h *Histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the value below which a fraction q (0..1) of the recorded values fall, to
// within the bucket width, and never more than Max. It is 0 when nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = max(1, min(rank, n))
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(time.Duration(bucketMid(i)), h.Max())
		}
	}
	return h.Max()
}
