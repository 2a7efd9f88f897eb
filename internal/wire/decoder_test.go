package wire

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRawAcceptsWhatEncodingJSONAccepts(t *testing.T) {
	valid := []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `true`, `false`, `null`,
		` { "a" : [ 1 , 2 , { "b" : null } ] , "c" : "\u00e9\n\"" } `,
		`"héllo 🍕"`, `[[[[]]]]`, `{"":""}`, `-12.5E+10`,
	}
	for _, s := range valid {
		var d Decoder
		d.Reset([]byte(s), true)
		raw := d.Raw()
		d.End()
		if d.Err() != nil {
			t.Errorf("Raw(%q): %v", s, d.Err())
			continue
		}
		if string(raw) != strings.TrimLeft(strings.TrimRight(s, " "), " ") {
			t.Errorf("Raw(%q) = %q", s, raw)
		}
	}
	invalid := []string{
		``, `{`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `-`, `1e`, `tru`, `nul`,
		`"abc`, `"\x"`, `"\u12"`, "\"a\x01b\"", "\"\xff\"", `[1 2]`, `{"a":1 "b":2}`, `1 2`, `{} x`,
	}
	for _, s := range invalid {
		var d Decoder
		d.Reset([]byte(s), true)
		d.Raw()
		d.End()
		if d.Err() == nil {
			t.Errorf("Raw(%q) accepted invalid JSON", s)
		}
	}
}

func TestDepthLimit(t *testing.T) {
	s := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	var d Decoder
	d.Reset([]byte(s), true)
	d.Raw()
	if d.Err() == nil || !strings.Contains(d.Err().Message, "nesting") {
		t.Fatalf("deep nesting: %v", d.Err())
	}
}

func TestStringUnescapeAndAlias(t *testing.T) {
	cases := map[string]string{
		`"plain"`:              "plain",
		`"a\"b\\c\/d\n\t"`:     "a\"b\\c/d\n\t",
		`"\u00e9\ud83c\udf55"`: "é🍕",
		`"\ud83c"`:             "\ufffd",
		`""`:                   "",
	}
	for in, want := range cases {
		for _, alias := range []bool{true, false} {
			var d Decoder
			d.Reset([]byte(in), alias)
			got := d.String()
			d.End()
			if d.Err() != nil || got != want {
				t.Errorf("String(%s, alias=%v) = %q, %v; want %q", in, alias, got, d.Err(), want)
			}
		}
	}
}

func TestIntegers(t *testing.T) {
	ok := map[string]int64{
		`0`: 0, `-0`: 0, `-7`: -7, `1.0`: 1, `1e3`: 1000, `0.5e1`: 5, `120e-1`: 12, `0e-999`: 0, `0.000e5`: 0,
		`123456789012345678`: 123456789012345678, `9007199254740993`: 9007199254740993,
		`9223372036854775807`: math.MaxInt64, `-9223372036854775808`: math.MinInt64,
		`92233720368547758.07e2`: math.MaxInt64, `1000000000000000000000000000000000000000000000e-45`: 1,
	}
	for in, want := range ok {
		var d Decoder
		d.Reset([]byte(in), true)
		if got := d.Int(); d.Err() != nil || got != want {
			t.Errorf("Int(%s) = %d, %v", in, got, d.Err())
		}
	}
	for _, in := range []string{
		`1.5`, `"1"`, `1e400`, `true`, `1e-700`, `-1e-700`, `1.0000000000000001`, `9007199254740993.5`,
		`9223372036854775808`, `-9223372036854775809`, `1e19`, `1e99999999999999999999`,
		`10000000000000000000000000000000000000000000001e-45`, `0.1e1000000000000`,
	} {
		var d Decoder
		d.Reset([]byte(in), true)
		d.Int()
		if d.Err() == nil {
			t.Errorf("Int(%s) accepted", in)
		}
	}
}

func TestFloatUnderflow(t *testing.T) {
	for in, want := range map[string]float64{`0`: 0, `-0.0`: 0, `0e-999`: 0, `1e-300`: 1e-300, `-2.5e3`: -2500} {
		var d Decoder
		d.Reset([]byte(in), true)
		if got := d.Float(); d.Err() != nil || got != want {
			t.Errorf("Float(%s) = %v, %v", in, got, d.Err())
		}
	}
	// A non-zero number that would round to (signless) zero could pass "minimum": 0 when negative.
	for _, in := range []string{`1e-700`, `-1e-700`, `-0.0000001e-400`, `1e400`} {
		var d Decoder
		d.Reset([]byte(in), true)
		d.Float()
		if d.Err() == nil {
			t.Errorf("Float(%s) accepted", in)
		}
	}
}

func TestErrorPointer(t *testing.T) {
	in := `{"a":{"b/c":[1,{"d~e":"x"}]}}`
	var d Decoder
	d.Reset([]byte(in), true)
	d.ObjectStart()
	d.NextField(0)
	d.ObjectStart()
	d.NextField(0)
	d.ArrayStart()
	d.NextElem(0)
	d.Int()
	d.Pop()
	d.NextElem(1)
	d.ObjectStart()
	d.NextField(0)
	d.Int() // a string is there
	err := d.Err()
	if err == nil || err.Pointer != "/a/b~1c/1/d~0e" || err.Message != "expected integer, got string" {
		t.Fatalf("got %#v", err)
	}
	if got := err.Error(); got != "/a/b~1c/1/d~0e: expected integer, got string" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestAppendStringRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "\x00\x1f\n\r\t", "é🍕", "\u2028\u2029", "<&>"} {
		b := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("AppendString(%q) = %s -> %q, %v", s, b, back, err)
		}
	}
	if got := string(AppendString(nil, "a\xffb")); got != `"a\ufffdb"` {
		t.Errorf("invalid UTF-8: %s", got)
	}
}

func TestAppendFloat(t *testing.T) {
	cases := map[float64]string{0: "0", 1.5: "1.5", -2: "-2", 1e21: "1e+21", 1e-7: "1e-7", 123456789: "123456789", math.NaN(): "null"}
	for f, want := range cases {
		if got := string(AppendFloat(nil, f)); got != want {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestOptional(t *testing.T) {
	var o Optional[string]
	if o.IsSet() || o.Or("d") != "d" || !o.IsZero() {
		t.Fatal("zero Optional should be absent")
	}
	o = Some("x")
	if v, ok := o.Get(); !ok || v != "x" {
		t.Fatal("Some lost its value")
	}
	type S struct {
		A Optional[int]     `json:"a,omitzero"`
		B Optional[*string] `json:"b,omitzero"`
	}
	b, _ := json.Marshal(S{B: Some[*string](nil)})
	if string(b) != `{"b":null}` {
		t.Fatalf("marshal: %s", b)
	}
	var s S
	if err := json.Unmarshal([]byte(`{"a":3,"b":null}`), &s); err != nil || s.A.Or(0) != 3 || !s.B.IsSet() {
		t.Fatalf("unmarshal: %+v %v", s, err)
	}
}

func FuzzRaw(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\u00e9"`, `[1e5,-0.5]`, `{"a":"\ud83c\udf55"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		d.Reset(data, true)
		d.Raw()
		d.End()
		ours := d.Err() == nil
		theirs := json.Valid(data)
		if ours && !theirs {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if theirs && !ours && utf8.Valid(data) && !strings.Contains(d.Err().Message, "nesting") {
			t.Fatalf("rejected valid JSON %q: %v", data, d.Err())
		}
	})
}
