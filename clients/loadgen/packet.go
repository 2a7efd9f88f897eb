package loadgen

import (
	"bytes"
	"errors"
)

// Engine.IO v4 packet types: the first byte of every websocket text frame.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
)

// Socket.IO v5 packet types: the first byte of an Engine.IO message.
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
	sioBinaryEvent  = '5'
	sioBinaryAck    = '6'
)

// packet is a Socket.IO packet split into its parts; the slices alias the frame.
type packet struct {
	typ  byte
	nsp  []byte // "/" when the packet names no namespace
	id   int64  // ack id, -1 when absent
	data []byte // the JSON payload, possibly empty
}

var (
	errEmptyPacket = errors.New("loadgen: empty packet")
	errBadPacket   = errors.New("loadgen: malformed packet")
	rootNsp        = []byte("/")
)

// parsePacket splits a Socket.IO packet (an Engine.IO message without its leading '4'):
// <type>[<attachments>-][<nsp>,][<ack id>][<json>].
func parsePacket(b []byte) (packet, error) {
	if len(b) == 0 {
		return packet{}, errEmptyPacket
	}
	p := packet{typ: b[0], nsp: rootNsp, id: -1}
	if p.typ < sioConnect || p.typ > sioBinaryAck {
		return packet{}, errBadPacket
	}
	b = b[1:]
	if p.typ == sioBinaryEvent || p.typ == sioBinaryAck {
		i := bytes.IndexByte(b, '-')
		if i < 0 {
			return packet{}, errBadPacket
		}
		b = b[i+1:]
	}
	if len(b) > 0 && b[0] == '/' {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			// A namespace with no payload ("1/viewer" is sent as "1/viewer,", but be lenient).
			p.nsp, b = b, nil
		} else {
			p.nsp, b = b[:i], b[i+1:]
		}
	}
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		var id int64
		i := 0
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if i >= 18 {
				return packet{}, errBadPacket
			}
			id = id*10 + int64(b[i]-'0')
		}
		p.id, b = id, b[i:]
	}
	p.data = b
	return p, nil
}

// splitEvent splits the data of an EVENT packet, ["name",arg], into the event name (as written,
// without unescaping) and its first argument (nil when there is none). PizzaPi events carry
// exactly one argument; further arguments stay part of arg.
func splitEvent(data []byte) (name, arg []byte, err error) {
	data = trimSpace(data)
	if len(data) < 4 || data[0] != '[' || data[len(data)-1] != ']' {
		return nil, nil, errBadPacket
	}
	b := trimSpace(data[1 : len(data)-1])
	if len(b) < 2 || b[0] != '"' {
		return nil, nil, errBadPacket
	}
	end := -1
	for i := 1; i < len(b); i++ {
		if b[i] == '\\' {
			i++
			continue
		}
		if b[i] == '"' {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, nil, errBadPacket
	}
	name = b[1:end]
	rest := trimSpace(b[end+1:])
	if len(rest) == 0 {
		return name, nil, nil
	}
	if rest[0] != ',' {
		return nil, nil, errBadPacket
	}
	return name, trimSpace(rest[1:]), nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// intField finds the first occurrence of key (a quoted name followed by a colon, e.g.
// []byte(`"seq":`)) in a JSON text and parses the integer after it; an empty key parses the
// integer at the start of b. It does not parse the JSON: callers use it on payloads whose other
// values cannot contain the key, such as the benchmark's own events. Fractions and exponents
// are not accepted.
func intField(b, key []byte) (int64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	return parseInt(b[i+len(key):])
}

// lastIntField is intField for the last occurrence of key.
func lastIntField(b, key []byte) (int64, bool) {
	i := bytes.LastIndex(b, key)
	if i < 0 {
		return 0, false
	}
	return parseInt(b[i+len(key):])
}

// parseInt parses the JSON integer at the start of b (after optional spaces).
func parseInt(b []byte) (int64, bool) {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	var v int64
	n := 0
	for ; n < len(b) && b[n] >= '0' && b[n] <= '9'; n++ {
		if n >= 18 {
			return 0, false
		}
		v = v*10 + int64(b[n]-'0')
	}
	if n == 0 || (n < len(b) && (b[n] == '.' || b[n] == 'e' || b[n] == 'E')) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// stringField finds the first occurrence of key (e.g. []byte(`"token":`)) and returns the JSON
// string after it, unescaped only if it has no escapes (returned as written otherwise), with the
// same caveat as intField.
func stringField(b, key []byte) (string, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return "", false
	}
	b = trimSpace(b[i+len(key):])
	if len(b) == 0 || b[0] != '"' {
		return "", false
	}
	for j := 1; j < len(b); j++ {
		if b[j] == '\\' {
			j++
			continue
		}
		if b[j] == '"' {
			return string(b[1:j]), true
		}
	}
	return "", false
}

// appendEventPacket appends an Engine.IO message carrying a Socket.IO EVENT with one argument:
// 42[/nsp,]["event",payload]. The payload must be valid JSON.
func appendEventPacket(dst []byte, nsp, event string, payload []byte) []byte {
	dst = append(dst, eioMessage, sioEvent)
	if nsp != "" && nsp != "/" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	dst = append(dst, `["`...)
	dst = append(dst, event...)
	dst = append(dst, '"')
	if payload != nil {
		dst = append(dst, ',')
		dst = append(dst, payload...)
	}
	return append(dst, ']')
}
