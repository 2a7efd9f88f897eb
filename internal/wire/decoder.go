package wire

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// MaxDepth bounds how deeply objects and arrays may nest inside one payload.
const MaxDepth = 512

// maxPath is how many path segments an error pointer can name; typed schemas nest far less.
const maxPath = 32

// Kind is the JSON type of the next value.
type Kind uint8

// The JSON types, plus KindInvalid for input that starts no value.
const (
	KindInvalid Kind = iota
	KindNull
	KindBool
	KindNumber
	KindString
	KindArray
	KindObject
)

// String names the kind the way JSON Schema names types.
func (k Kind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindBool:
		return "boolean"
	case KindNumber:
		return "number"
	case KindString:
		return "string"
	case KindArray:
		return "array"
	case KindObject:
		return "object"
	}
	return "invalid JSON"
}

// Decoder reads one JSON value from a byte slice. The generated decoders drive it: they ask for
// the value they expect next, and the first mismatch is recorded as an *Error with the JSON
// pointer of the value; after that every call is a no-op that returns a zero value, so decoding
// code needs no error checks between steps.
//
// A Decoder is meant to live on the stack: Reset it, decode, check Err.
type Decoder struct {
	data      []byte
	pos       int
	err       *Error
	alias     bool
	keepExtra bool
	depth     int
	npath     int
	path      [maxPath]segment
}

// Reset prepares d to decode data. With alias set, decoded strings and raw values share memory
// with data (no copies), so the caller must not modify data afterwards.
func (d *Decoder) Reset(data []byte, alias bool) {
	d.data = data
	d.pos = 0
	d.err = nil
	d.alias = alias
	d.keepExtra = true
	d.depth = 0
	d.npath = 0
}

// Err returns the first problem found, or nil.
func (d *Decoder) Err() *Error { return d.err }

// Failed reports whether a problem has been found.
func (d *Decoder) Failed() bool { return d.err != nil }

// Fail records msg as the problem with the current value, unless one was recorded before.
func (d *Decoder) Fail(msg string) {
	if d.err != nil {
		return
	}
	d.err = &Error{Pointer: d.pointer(""), Message: msg}
}

// Missing records that the required property name is absent from the current object.
func (d *Decoder) Missing(name string) {
	if d.err != nil {
		return
	}
	d.err = &Error{Pointer: d.pointer(name), Message: `missing required property "` + name + `"`}
}

// Unknown records that the current property is not allowed in its object.
func (d *Decoder) Unknown() {
	if d.err != nil {
		return
	}
	name := ""
	if d.npath > 0 && d.npath <= maxPath {
		name = string(d.path[d.npath-1].key)
	}
	d.Fail(`unknown property "` + name + `"`)
}

func (d *Decoder) pointer(child string) string {
	var sb strings.Builder
	n := min(d.npath, maxPath)
	appendPointer(&sb, d.path[:n])
	if child != "" {
		appendPointer(&sb, []segment{{key: []byte(child), index: -1}})
	}
	return sb.String()
}

func (d *Decoder) push(s segment) {
	if d.npath < maxPath {
		d.path[d.npath] = s
	}
	d.npath++
}

// Pop leaves the property or element entered by NextField or NextElem.
func (d *Decoder) Pop() {
	if d.npath > 0 {
		d.npath--
	}
}

// KeepExtra reports whether unknown properties of open objects should be kept.
func (d *Decoder) KeepExtra() bool { return d.keepExtra }

// SetKeepExtra sets whether unknown properties of open objects are kept and returns the previous
// setting. Validation-only passes turn it off to avoid building maps nobody reads.
func (d *Decoder) SetKeepExtra(keep bool) bool {
	prev := d.keepExtra
	d.keepExtra = keep
	return prev
}

// Pos returns the read offset; with Rewind it lets a decoder read one value twice.
func (d *Decoder) Pos() int { return d.pos }

// Rewind moves the read offset back to pos, an offset Pos returned earlier.
func (d *Decoder) Rewind(pos int) { d.pos = pos }

// Span returns the input between start and the read offset, sharing memory with the input
// when the decoder aliases and copied otherwise.
func (d *Decoder) Span(start int) []byte {
	if d.err != nil {
		return nil
	}
	b := d.data[start:d.pos]
	if d.alias {
		return b[:len(b):len(b)]
	}
	return append([]byte(nil), b...)
}

// ws skips whitespace and returns the next byte without consuming it, or 0 at the end.
func (d *Decoder) ws() byte {
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return c
		}
		d.pos++
	}
	return 0
}

// Peek returns the kind of the next value without consuming it.
func (d *Decoder) Peek() Kind {
	switch d.ws() {
	case '{':
		return KindObject
	case '[':
		return KindArray
	case '"':
		return KindString
	case 't', 'f':
		return KindBool
	case 'n':
		return KindNull
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return KindNumber
	}
	return KindInvalid
}

func (d *Decoder) typeError(want string) {
	if d.err != nil {
		return
	}
	if d.pos >= len(d.data) {
		d.Fail("expected " + want + ", got end of input")
		return
	}
	k := d.Peek()
	if k == KindInvalid {
		d.Fail("expected " + want + ", got invalid JSON")
		return
	}
	d.Fail("expected " + want + ", got " + k.String())
}

func (d *Decoder) syntax(msg string) {
	if d.pos >= len(d.data) {
		d.Fail("invalid JSON: unexpected end of input")
		return
	}
	d.Fail("invalid JSON: " + msg + " at offset " + strconv.Itoa(d.pos))
}

// End checks that nothing but whitespace follows the decoded value.
func (d *Decoder) End() {
	if d.err != nil {
		return
	}
	d.ws()
	if d.pos < len(d.data) {
		d.npath = 0
		d.syntax("unexpected data after the value")
	}
}

// ObjectStart consumes the "{" of an object; it records an error and returns false when the next
// value is not an object.
func (d *Decoder) ObjectStart() bool {
	if d.err != nil {
		return false
	}
	if d.ws() != '{' {
		d.typeError("object")
		return false
	}
	d.pos++
	d.depth++
	if d.depth > MaxDepth {
		d.Fail("nesting is deeper than " + strconv.Itoa(MaxDepth) + " levels")
		return false
	}
	return true
}

// NextField reads the name of the i-th member of the object opened by ObjectStart and enters it
// (call Pop after its value). It returns false at the closing "}" or on error.
func (d *Decoder) NextField(i int) ([]byte, bool) {
	if d.err != nil {
		return nil, false
	}
	c := d.ws()
	if c == '}' {
		d.pos++
		d.depth--
		return nil, false
	}
	if i > 0 {
		if c != ',' {
			d.syntax("expected ',' or '}' after an object member")
			return nil, false
		}
		d.pos++
		c = d.ws()
	}
	if c != '"' {
		d.syntax("expected a property name")
		return nil, false
	}
	raw, escaped := d.scanString()
	if d.err != nil {
		return nil, false
	}
	key := raw
	if escaped {
		key = unescape(raw)
	}
	if d.ws() != ':' {
		d.syntax("expected ':' after a property name")
		return nil, false
	}
	d.pos++
	d.push(segment{key: key, index: -1})
	return key, true
}

// ArrayStart consumes the "[" of an array; it records an error and returns false when the next
// value is not an array.
func (d *Decoder) ArrayStart() bool {
	if d.err != nil {
		return false
	}
	if d.ws() != '[' {
		d.typeError("array")
		return false
	}
	d.pos++
	d.depth++
	if d.depth > MaxDepth {
		d.Fail("nesting is deeper than " + strconv.Itoa(MaxDepth) + " levels")
		return false
	}
	return true
}

// NextElem enters the i-th element of the array opened by ArrayStart (call Pop after its value).
// It returns false at the closing "]" or on error.
func (d *Decoder) NextElem(i int) bool {
	if d.err != nil {
		return false
	}
	c := d.ws()
	if c == ']' {
		d.pos++
		d.depth--
		return false
	}
	if i > 0 {
		if c != ',' {
			d.syntax("expected ',' or ']' after an array element")
			return false
		}
		d.pos++
	}
	d.push(segment{index: i})
	return true
}

// Null consumes a null and reports true when the next value is null; otherwise it consumes
// nothing and reports false.
func (d *Decoder) Null() bool {
	if d.err != nil || d.ws() != 'n' {
		return false
	}
	d.literal("null")
	return d.err == nil
}

// Bool reads a boolean.
func (d *Decoder) Bool() bool {
	if d.err != nil {
		return false
	}
	switch d.ws() {
	case 't':
		d.literal("true")
		return d.err == nil
	case 'f':
		d.literal("false")
		return false
	}
	d.typeError("boolean")
	return false
}

func (d *Decoder) literal(lit string) {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		d.syntax("invalid literal")
		return
	}
	d.pos += len(lit)
}

// String reads a string. Without escapes and with aliasing on it makes no allocation.
func (d *Decoder) String() string {
	if d.err != nil {
		return ""
	}
	if d.ws() != '"' {
		d.typeError("string")
		return ""
	}
	raw, escaped := d.scanString()
	if d.err != nil {
		return ""
	}
	if escaped {
		b := unescape(raw)
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	if len(raw) == 0 {
		return ""
	}
	if d.alias {
		return unsafe.String(&raw[0], len(raw))
	}
	return string(raw)
}

// Float reads a number.
func (d *Decoder) Float() float64 {
	if d.err != nil {
		return 0
	}
	if d.Peek() != KindNumber {
		d.typeError("number")
		return 0
	}
	start := d.pos
	d.scanNumber()
	if d.err != nil {
		return 0
	}
	b := d.data[start:d.pos]
	f, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil || f == 0 && !zeroDigits(b) {
		// A non-zero number that rounds to zero has lost its sign for every bound check.
		d.pos = start
		d.Fail("number out of range")
		return 0
	}
	return f
}

// zeroDigits reports whether the significand of the JSON number b has only zero digits.
func zeroDigits(b []byte) bool {
	for _, c := range b {
		switch {
		case c == 'e' || c == 'E':
			return true
		case '1' <= c && c <= '9':
			return false
		}
	}
	return true
}

// Int reads an integer: a number without a fractional part (1.0 and 1e3 count) that fits in 64
// bits.
func (d *Decoder) Int() int64 {
	if d.err != nil {
		return 0
	}
	if d.Peek() != KindNumber {
		d.typeError("integer")
		return 0
	}
	start := d.pos
	plain := d.scanNumber()
	if d.err != nil {
		return 0
	}
	b := d.data[start:d.pos]
	if plain && len(b) <= 18 {
		var n int64
		neg := b[0] == '-'
		if neg {
			b = b[1:]
		}
		for _, c := range b {
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		return n
	}
	n, status := exactInt(b)
	switch status {
	case intFraction:
		d.pos = start
		d.Fail("expected integer, got number")
		return 0
	case intRange:
		d.pos = start
		d.Fail("integer out of range")
		return 0
	}
	return n
}

// The outcomes of exactInt besides success.
const (
	intOK = iota
	intFraction
	intRange
)

// exactInt reads the well-formed JSON number b exactly, as JSON Schema's integer type does: the
// value must have no fractional part (1.0 and 1e3 count, 1e-700 and 1.0000000000000001 do not)
// and must fit in 64 bits. Floating point is never involved, so nothing rounds into an integer.
func exactInt(b []byte) (int64, int) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	// The significand's digits, without the decimal point, and the power of ten they are scaled by.
	var digits [40]byte
	nd, dropped, exp10 := 0, false, 0
	i, frac := 0, false
	for ; i < len(b) && b[i] != 'e' && b[i] != 'E'; i++ {
		c := b[i]
		switch {
		case c == '.':
			frac = true
			continue
		case nd == 0 && c == '0':
		case nd < len(digits):
			digits[nd] = c
			nd++
		default:
			// Past the buffer a digit only scales what is kept; a non-zero one means the value
			// is either fractional or far beyond 64 bits.
			dropped = dropped || c != '0'
			exp10++
		}
		if frac {
			exp10--
		}
	}
	if i < len(b) {
		e, negExp, i := 0, false, i+1
		switch b[i] {
		case '-':
			negExp = true
			i++
		case '+':
			i++
		}
		for ; i < len(b); i++ {
			if e < 1<<20 {
				e = e*10 + int(b[i]-'0')
			}
		}
		if negExp {
			e = -e
		}
		exp10 += e
	}
	for !dropped && nd > 0 && digits[nd-1] == '0' {
		nd--
		exp10++
	}
	switch {
	case nd == 0:
		return 0, intOK
	case nd+exp10 > 19:
		return 0, intRange
	case dropped || exp10 < 0:
		return 0, intFraction
	}
	var u uint64
	for _, c := range digits[:nd] {
		u = u*10 + uint64(c-'0')
	}
	for range exp10 {
		u *= 10
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	if u > limit {
		return 0, intRange
	}
	if neg {
		return int64(-u), intOK
	}
	return int64(u), intOK
}

// Raw reads any JSON value, checking that it is well-formed, and returns its bytes.
func (d *Decoder) Raw() []byte {
	if d.err != nil {
		return nil
	}
	d.ws()
	start := d.pos
	d.skip()
	return d.Span(start)
}

// Skip reads and discards any JSON value, checking that it is well-formed.
func (d *Decoder) Skip() {
	if d.err == nil {
		d.skip()
	}
}

func (d *Decoder) skip() {
	switch c := d.ws(); c {
	case '{':
		d.pos++
		d.depth++
		if d.depth > MaxDepth {
			d.Fail("nesting is deeper than " + strconv.Itoa(MaxDepth) + " levels")
			return
		}
		for i := 0; ; i++ {
			c := d.ws()
			if c == '}' {
				d.pos++
				break
			}
			if i > 0 {
				if c != ',' {
					d.syntax("expected ',' or '}' after an object member")
					return
				}
				d.pos++
				c = d.ws()
			}
			if c != '"' {
				d.syntax("expected a property name")
				return
			}
			d.scanString()
			if d.err != nil {
				return
			}
			if d.ws() != ':' {
				d.syntax("expected ':' after a property name")
				return
			}
			d.pos++
			d.skip()
			if d.err != nil {
				return
			}
		}
		d.depth--
	case '[':
		d.pos++
		d.depth++
		if d.depth > MaxDepth {
			d.Fail("nesting is deeper than " + strconv.Itoa(MaxDepth) + " levels")
			return
		}
		for i := 0; ; i++ {
			c := d.ws()
			if c == ']' {
				d.pos++
				break
			}
			if i > 0 {
				if c != ',' {
					d.syntax("expected ',' or ']' after an array element")
					return
				}
				d.pos++
			}
			d.skip()
			if d.err != nil {
				return
			}
		}
		d.depth--
	case '"':
		d.scanString()
	case 't':
		d.literal("true")
	case 'f':
		d.literal("false")
	case 'n':
		d.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		d.scanNumber()
	default:
		d.syntax("unexpected character")
	}
}

// plainString marks the bytes a string can hold without escaping or UTF-8 decoding.
var plainString = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString consumes a string starting at its opening quote and returns its contents without
// the quotes, still escaped, and whether it contains escapes. It checks escapes, control
// characters and UTF-8.
func (d *Decoder) scanString() (raw []byte, escaped bool) {
	data := d.data
	start := d.pos + 1
	i := start
	for {
		for i < len(data) && plainString[data[i]] {
			i++
		}
		if i >= len(data) {
			d.pos = i
			d.syntax("unterminated string")
			return nil, false
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			return data[start:i], escaped
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				d.pos = i
				d.syntax("unterminated string")
				return nil, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || !isHex4(data[i+2:i+6]) {
					d.pos = i
					d.syntax(`invalid \u escape`)
					return nil, false
				}
				i += 6
			default:
				d.pos = i
				d.syntax("invalid escape")
				return nil, false
			}
		case c < 0x20:
			d.pos = i
			d.syntax("control character in string")
			return nil, false
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				d.pos = i
				d.syntax("invalid UTF-8 in string")
				return nil, false
			}
			i += size
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// scanNumber consumes a number and reports whether it is a plain integer (no fraction or
// exponent).
func (d *Decoder) scanNumber() bool {
	data := d.data
	i := d.pos
	plain := true
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		d.syntax("invalid number")
		return false
	}
	if i < len(data) && data[i] == '.' {
		plain = false
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			d.pos = i
			d.syntax("invalid number")
			return false
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		plain = false
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			d.pos = i
			d.syntax("invalid number")
			return false
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	}
	d.pos = i
	return plain
}

// unescape decodes the escapes of a string that scanString has already checked.
func unescape(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := rune(hex4(raw[i+2 : i+6]))
			i += 6
			if utf16IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = rune(hex4(raw[i+2 : i+6]))
				}
				if dec := utf16Decode(r, r2); dec != utf8.RuneError {
					i += 6
					r = dec
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, raw[i+1])
		}
		i += 2
	}
	return out
}

func hex4(b []byte) int {
	n := 0
	for _, c := range b[:4] {
		n <<= 4
		switch {
		case '0' <= c && c <= '9':
			n |= int(c - '0')
		case 'a' <= c && c <= 'f':
			n |= int(c - 'a' + 10)
		default:
			n |= int(c - 'A' + 10)
		}
	}
	return n
}

func utf16IsSurrogate(r rune) bool { return 0xd800 <= r && r < 0xe000 }

func utf16Decode(r1, r2 rune) rune {
	if 0xd800 <= r1 && r1 < 0xdc00 && 0xdc00 <= r2 && r2 < 0xe000 {
		return (r1-0xd800)<<10 | (r2 - 0xdc00) + 0x10000
	}
	return utf8.RuneError
}

// Mark skips whitespace and returns the offset where the next value starts, for Span.
func (d *Decoder) Mark() int {
	d.ws()
	return d.pos
}
