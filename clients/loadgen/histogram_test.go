package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	prev := -1
	for _, v := range []int64{0, 1, 255, 256, 257, 511, 512, 1000, 1 << 20, 1<<40 + 12345, math.MaxInt64} {
		b := bucketOf(v)
		if b < prev {
			t.Errorf("bucket of %d is %d, below %d", v, b, prev)
		}
		prev = b
		if b >= histBuckets {
			t.Fatalf("bucket of %d is %d, out of range", v, b)
		}
		lo := bucketLow(b)
		if lo > v {
			t.Errorf("bucket %d starts at %d, above %d", b, lo, v)
		}
		if v >= histExact && float64(v-lo)/float64(v) > 1.0/histSub {
			t.Errorf("bucket of %d starts at %d: more than 1/%d below", v, lo, histSub)
		}
		if next := bucketLow(b + 1); b+1 < histBuckets && next > 0 && next <= v {
			t.Errorf("value %d belongs in a later bucket than %d", v, b)
		}
	}
}

func TestQuantiles(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 {
		t.Error("empty histogram")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]int64, 100000)
	for i := range vals {
		vals[i] = int64(rng.ExpFloat64() * 1e6)
		h.Record(time.Duration(vals[i]))
	}
	h.Record(-5)
	vals = append(vals, 0)
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := float64(vals[int(q*float64(len(vals)))-1])
		got := float64(h.Quantile(q))
		if math.Abs(got-exact)/exact > 0.01 {
			t.Errorf("p%v: got %v, exact %v", q*100, got, exact)
		}
	}
	if h.Max() != time.Duration(vals[len(vals)-1]) || h.Count() != uint64(len(vals)) {
		t.Errorf("max %v count %d", h.Max(), h.Count())
	}
	if h.Quantile(1) != h.Max() {
		t.Errorf("p100 %v, max %v", h.Quantile(1), h.Max())
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i * 1000))
	}
}
