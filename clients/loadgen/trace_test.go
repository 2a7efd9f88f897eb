package loadgen

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestRunTrace checks that Config.Trace receives a runtime trace of the hold.
func TestRunTrace(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	var trace bytes.Buffer
	_, err := Run(context.Background(), Config{
		URL: n.URL, APIKey: u.APIKey,
		Sessions: 1, Viewers: 2, Rate: 20,
		Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond,
		Settle: 50 * time.Millisecond,
		Trace:  &trace, TraceFor: 100 * time.Millisecond,
		Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(trace.Bytes(), []byte("go 1.")) {
		t.Fatalf("no runtime trace written (%d bytes)", trace.Len())
	}
}
