package wire

import "encoding/json"

// Optional holds a value that may be absent. Its zero value is absent; Some makes a present one.
// A nullable optional field is an Optional of a pointer: absent, present and nil (JSON null), or
// present with a value.
type Optional[T any] struct {
	value T
	set   bool
}

// Some returns a present Optional holding v.
func Some[T any](v T) Optional[T] { return Optional[T]{value: v, set: true} }

// Get returns the value and whether it is present.
func (o Optional[T]) Get() (T, bool) { return o.value, o.set }

// IsSet reports whether the value is present.
func (o Optional[T]) IsSet() bool { return o.set }

// Or returns the value when it is present and def otherwise.
func (o Optional[T]) Or(def T) T {
	if o.set {
		return o.value
	}
	return def
}

// IsZero reports whether the value is absent, so encoding/json's omitzero leaves it out.
func (o Optional[T]) IsZero() bool { return !o.set }

// MarshalJSON encodes the value (absent values are left out by omitzero before this is called).
func (o Optional[T]) MarshalJSON() ([]byte, error) { return json.Marshal(o.value) }

// UnmarshalJSON decodes a present value.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.set = true
	return json.Unmarshal(b, &o.value)
}
