package wire

import (
	"regexp"
	"strconv"
	"unicode/utf8"
)

// MinLength checks that s has at least n characters (Unicode code points, as JSON Schema counts).
func (d *Decoder) MinLength(s string, n int) {
	if d.err == nil && len(s) < 4*n && utf8.RuneCountInString(s) < n {
		d.Fail("must be at least " + strconv.Itoa(n) + " characters long")
	}
}

// MaxLength checks that s has at most n characters.
func (d *Decoder) MaxLength(s string, n int) {
	if d.err == nil && len(s) > n && utf8.RuneCountInString(s) > n {
		d.Fail("must be at most " + strconv.Itoa(n) + " characters long")
	}
}

// Pattern checks that s matches re, whose source is pattern.
func (d *Decoder) Pattern(s string, re *regexp.Regexp, pattern string) {
	if d.err == nil && !re.MatchString(s) {
		d.Fail("must match the pattern " + strconv.Quote(pattern))
	}
}

// MinimumInt checks that v >= lo.
func (d *Decoder) MinimumInt(v, lo int64) {
	if d.err == nil && v < lo {
		d.Fail("must be at least " + strconv.FormatInt(lo, 10))
	}
}

// MaximumInt checks that v <= hi.
func (d *Decoder) MaximumInt(v, hi int64) {
	if d.err == nil && v > hi {
		d.Fail("must be at most " + strconv.FormatInt(hi, 10))
	}
}

// MinimumFloat checks that v >= lo.
func (d *Decoder) MinimumFloat(v, lo float64) {
	if d.err == nil && v < lo {
		d.Fail("must be at least " + strconv.FormatFloat(lo, 'g', -1, 64))
	}
}

// MaximumFloat checks that v <= hi.
func (d *Decoder) MaximumFloat(v, hi float64) {
	if d.err == nil && v > hi {
		d.Fail("must be at most " + strconv.FormatFloat(hi, 'g', -1, 64))
	}
}

// MinItems checks that an array of n elements has at least lo of them. Call it after the array.
func (d *Decoder) MinItems(n, lo int) {
	if d.err == nil && n < lo {
		d.Fail("must have at least " + strconv.Itoa(lo) + " items")
	}
}

// MaxItems checks, while reading element i (counting from 0), that the array has at most hi
// elements, so an oversized array is refused before it is all decoded.
func (d *Decoder) MaxItems(i, hi int) {
	if d.err == nil && i >= hi {
		d.Fail("must have at most " + strconv.Itoa(hi) + " items")
	}
}

// Const checks that the string s equals want.
func (d *Decoder) Const(s, want string) {
	if d.err == nil && s != want {
		d.Fail("must be " + strconv.Quote(want))
	}
}

// NotOneOf records that a string is not one of the allowed values, listed in allowed.
func (d *Decoder) NotOneOf(allowed string) {
	d.Fail("must be one of " + allowed)
}
