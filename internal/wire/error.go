package wire

import "strings"

// Error is a payload that is not well-formed JSON or does not match its schema.
type Error struct {
	// Pointer is the JSON pointer (RFC 6901) of the offending value; "" is the whole payload.
	Pointer string
	// Message says what is wrong with the value, for people.
	Message string
}

// Error formats the problem as "pointer: message", using "/" for the whole payload.
func (e *Error) Error() string {
	p := e.Pointer
	if p == "" {
		p = "/"
	}
	return p + ": " + e.Message
}

// segment is one step of the path from the payload root to the value being decoded.
type segment struct {
	key   []byte // property name, when index < 0
	index int    // array index, or -1 for a property
}

// appendPointer writes segs as a JSON pointer, escaping "~" and "/" in property names.
func appendPointer(sb *strings.Builder, segs []segment) {
	for _, s := range segs {
		sb.WriteByte('/')
		if s.index >= 0 {
			writeInt(sb, s.index)
			continue
		}
		for _, c := range s.key {
			switch c {
			case '~':
				sb.WriteString("~0")
			case '/':
				sb.WriteString("~1")
			default:
				sb.WriteByte(c)
			}
		}
	}
}

func writeInt(sb *strings.Builder, n int) {
	var buf [20]byte
	i := len(buf)
	if n == 0 {
		sb.WriteByte('0')
		return
	}
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	sb.Write(buf[i:])
}
