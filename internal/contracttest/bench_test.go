package contracttest

import (
	"context"
	"strings"
	"testing"

	"github.com/pizzapi/pizzapi/protocol/relay"
)

// sink is a /relay server handler that accepts events and does nothing with them.
type sink struct {
	relay.UnimplementedServerHandler
}

func (sink) Event(context.Context, *relay.EventMessage) error { return nil }

// eventPayload returns a /relay "event" payload of about 1 KB carrying an inner event of the
// given type.
func eventPayload(innerType string) []byte {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 17)
	return []byte(`{"sessionId":"4f9c2d4e-6a1b-4c1d-9a55-3e1f0b7c9d21","token":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","seq":1234,` +
		`"event":{"type":"` + innerType + `","assistantMessageEvent":{"type":"text_delta","contentIndex":1,"delta":"fox "},` +
		`"message":{"role":"assistant","content":[{"type":"text","text":"` + text + `"}],"model":"claude-sonnet-4-5","usage":{"input":1200,"output":345}}}}`)
}

func benchmarkDispatch(b *testing.B, innerType string) {
	payload := eventPayload(innerType)
	ctx := context.Background()
	var h sink
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := relay.DispatchServer(ctx, h, relay.EventEvent, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDispatchEvent measures decode + validate of a ~1 KB /relay "event" (the relay's hot
// path) whose inner event has a typed sub-schema (message_update, checked in a second pass).
func BenchmarkDispatchEvent(b *testing.B) { benchmarkDispatch(b, "message_update") }

// BenchmarkDispatchEventUntyped is the same with an inner event type that passes through
// unchecked (tool_execution_update).
func BenchmarkDispatchEventUntyped(b *testing.B) { benchmarkDispatch(b, "tool_execution_update") }

func TestBenchmarkPayloadIsAboutOneKB(t *testing.T) {
	if n := len(eventPayload("message_update")); n < 900 || n > 1200 {
		t.Fatalf("payload is %d bytes", n)
	}
	if _, err := relay.DispatchServer(context.Background(), sink{}, relay.EventEvent, eventPayload("message_update")); err != nil {
		t.Fatal(err)
	}
}
