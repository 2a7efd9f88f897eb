package wire

import (
	"context"
	"errors"
	"sync"
)

// Message is implemented by every generated payload type.
type Message interface {
	// ReadJSON decodes and validates the value from d.
	ReadJSON(d *Decoder)
	// AppendJSON appends the value's JSON encoding to b.
	AppendJSON(b []byte) []byte
}

// Sender transmits one event with its encoded payload: to a socket, to a room, or to a test.
type Sender interface {
	Send(event string, payload []byte) error
}

// AckSender is a Sender that can also wait for the peer's acknowledgement of an event.
type AckSender interface {
	Sender
	// SendWithAck sends the event and returns the encoded acknowledgement, or an error when ctx
	// ends first.
	SendWithAck(ctx context.Context, event string, payload []byte) ([]byte, error)
}

// ErrUnimplemented is wrapped by the errors of the generated Unimplemented handlers.
var ErrUnimplemented = errors.New("not implemented")

// EventError is an event that cannot be handled: unknown, or its payload does not match the
// contract. Pointer is the JSON pointer of the offending value inside the payload.
type EventError struct {
	Namespace string
	Event     string
	Pointer   string
	Message   string
}

// Error describes the problem with the event, its location and what is wrong.
func (e *EventError) Error() string {
	s := e.Namespace + " " + e.Event + ": "
	if e.Pointer != "" {
		s += e.Pointer + ": "
	}
	return s + e.Message
}

type unimplementedError struct{ namespace, event string }

func (e *unimplementedError) Error() string {
	return e.namespace + " " + e.event + ": " + ErrUnimplemented.Error()
}

func (e *unimplementedError) Unwrap() error { return ErrUnimplemented }

// Unimplemented returns the error of a handler that does not implement event.
func Unimplemented(namespace, event string) error {
	return &unimplementedError{namespace, event}
}

// UnknownEvent returns the error for an event the contract does not define.
func UnknownEvent(namespace, event string) error {
	return &EventError{Namespace: namespace, Event: event, Message: "unknown event"}
}

var decoders = sync.Pool{New: func() any { return new(Decoder) }}

// decode runs m.ReadJSON over data with a pooled decoder.
func decode(data []byte, alias, keepExtra bool, m Message) *Error {
	d := decoders.Get().(*Decoder)
	d.Reset(data, alias)
	d.keepExtra = keepExtra
	m.ReadJSON(d)
	d.End()
	err := d.err
	d.data = nil
	decoders.Put(d)
	return err
}

// emptyObject stands in for a missing payload, so that events whose payload has no required
// fields may be sent without one.
var emptyObject = []byte("{}")

// DecodeEvent decodes and validates the payload of event into m. The decoded strings and raw
// values share memory with payload, which must not be modified afterwards.
func DecodeEvent(namespace, event string, payload []byte, m Message) error {
	if payload == nil {
		payload = emptyObject
	}
	if err := decode(payload, true, true, m); err != nil {
		return &EventError{Namespace: namespace, Event: event, Pointer: err.Pointer, Message: err.Message}
	}
	return nil
}

// DecodeAck decodes and validates the acknowledgement of event into m, copying what it keeps.
func DecodeAck(namespace, event string, payload []byte, m Message) error {
	if err := decode(payload, false, true, m); err != nil {
		return &EventError{Namespace: namespace, Event: event + " (ack)", Pointer: err.Pointer, Message: err.Message}
	}
	return nil
}

// Unmarshal decodes and validates data into m, copying what it keeps. It backs the generated
// UnmarshalJSON methods.
func Unmarshal(data []byte, m Message) error {
	if err := decode(data, false, true, m); err != nil {
		return err
	}
	return nil
}

// Check reports whether data is valid for the type of scratch, which it decodes into and
// discards.
func Check(data []byte, scratch Message) error {
	if err := decode(data, true, false, scratch); err != nil {
		return err
	}
	return nil
}
