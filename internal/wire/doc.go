// Package wire is the small runtime behind the generated protocol package: a single-pass JSON
// decoder that validates while it reads and reports the JSON pointer of the first problem, the
// append-style encoders the generated AppendJSON methods use, and the Optional type that keeps
// "absent" apart from "null" and from a zero value.
//
// The decoder is written for the relay's hot path: decoding and validating an event payload
// makes no allocation beyond the ones the caller asks for (strings may alias the input, raw JSON
// values are sub-slices of it), and errors are only formatted when they happen.
package wire
