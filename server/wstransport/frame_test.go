package wstransport

import (
	"encoding/binary"
	"strings"
	"testing"
)

// TestFrameHeader: a frame carries '4' and the packet behind the shortest header for its length.
func TestFrameHeader(t *testing.T) {
	for _, n := range []int{0, 124, 125, 126, 65534, 65535, 65536, 1 << 20} {
		pkt := strings.Repeat("p", n)
		f := NewFrame(n, func(dst []byte) []byte { return append(dst, pkt...) })
		if f.Packet() != pkt {
			t.Fatalf("%d: packet differs", n)
		}
		w := string(f.wire)
		if w[0] != 0x81 {
			t.Fatalf("%d: first byte %#x", n, w[0])
		}
		payload := n + 1
		var got, hl int
		switch l := int(w[1]); {
		case l < 126:
			got, hl = l, 2
		case l == 126:
			got, hl = int(binary.BigEndian.Uint16([]byte(w[2:4]))), 4
		default:
			got, hl = int(binary.BigEndian.Uint64([]byte(w[2:10]))), 10
		}
		if got != payload || hl != headerLen(payload) || len(w) != hl+payload || w[hl] != '4' {
			t.Fatalf("%d: length %d, header %d, frame %d bytes", n, got, hl, len(w))
		}
		if f.Options().WsPreEncodedFrame != f {
			t.Fatalf("%d: options do not carry the frame", n)
		}
	}
}
