package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

// errorCodeType is the name of the shared enum that lists the error codes. When the shared schema
// declares it, the shared package gets errors.go: the Error type that carries a code, and one
// sentinel per code for errors.Is.
const errorCodeType = "ErrorCode"

// errorMessageType is the name of the shared error payload. When it has a required code of the
// error code enum and a required message, errors.go also gets RefusedAck, and the emitters of
// events with an acknowledgement return a receiver's refusal as an *Error.
const errorMessageType = "ErrorMessage"

// enumDescriptions reads x-enum-descriptions, which describes each value of an enum: an object
// with one non-empty string per value, and nothing else.
func (b *builder) enumDescriptions(l loc, n *node, t *Type) error {
	d := n.get("x-enum-descriptions")
	if d == nil {
		return nil
	}
	if !t.IsEnum() {
		return b.errorf(l, "x-enum-descriptions needs an enum")
	}
	if d.kind != nodeObject {
		return b.errorf(l, "x-enum-descriptions must be an object with one description per enum value")
	}
	for _, m := range d.members {
		if !contains(t.Enum, m.key) {
			return b.errorf(l, "x-enum-descriptions describes %q, which is not an enum value", m.key)
		}
	}
	t.EnumDocs = make([]string, len(t.Enum))
	for i, v := range t.Enum {
		desc := d.get(v)
		if desc == nil || desc.kind != nodeString || desc.str == "" {
			return b.errorf(l, "x-enum-descriptions needs a description of %q", v)
		}
		t.EnumDocs[i] = desc.str
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// enumList renders an enum's value descriptions as a Markdown list, or "" when it has none.
func enumList(t *Type) string {
	if t.EnumDocs == nil {
		return ""
	}
	lines := make([]string, len(t.Enum))
	for i, v := range t.Enum {
		lines[i] = "- `" + v + "`: " + t.EnumDocs[i]
	}
	return strings.Join(lines, "\n")
}

// errorCodes returns the shared error code enum, or nil when the contract has none.
func (c *Contract) errorCodes() *Type {
	for _, t := range c.Shared.Types {
		if t.Name == errorCodeType && t.IsEnum() {
			return t
		}
	}
	return nil
}

// errorMessage returns the shared error payload with a required code of codes and a required
// string message, or nil when the contract has none.
func (c *Contract) errorMessage(codes *Type) *Type {
	if codes == nil {
		return nil
	}
	for _, t := range c.Shared.Types {
		if t.Name != errorMessageType || t.Kind != KindObject {
			continue
		}
		code, message := false, false
		for _, f := range t.Fields {
			switch {
			case f.Name == "code" && f.Required && f.Ref.Type == codes && !f.Ref.Nullable:
				code = true
			case f.Name == "message" && f.Required && f.Ref.Type.Kind == KindString && !f.Ref.Type.IsEnum() && !f.Ref.Nullable:
				message = true
			}
		}
		if code && message {
			return t
		}
	}
	return nil
}

// sentinelName is the Go name of the sentinel error of one code.
func sentinelName(code string) string { return "Err" + goName(code) }

// checkSentinels makes sure that the sentinels' names are free in the shared package.
func (g *goGen) checkSentinels(codes *Type) error {
	used := map[string]bool{"Error": true, "NewError": true, "Errorf": true, "CodeOf": true, "RefusedAck": true, "ErrUnimplemented": true}
	for _, t := range g.c.Shared.Types {
		used[t.Name] = true
	}
	for _, v := range codes.Enum {
		if used[sentinelName(v)] {
			return fmt.Errorf("%s: the sentinel of error code %q would be named %s, which is taken", g.c.Shared.File, v, sentinelName(v))
		}
		used[sentinelName(v)] = true
	}
	return nil
}

// errorsFile writes errors.go of the shared package: the Error type, its constructors, CodeOf,
// RefusedAck when the contract has an error payload (msg) and the sentinels of the codes.
func (g *goGen) errorsFile(codes, msg *Type) *jen.File {
	f := g.newFile(g.c.Shared)
	code := jen.Id(codes.Name)

	f.Add(doc("Error is a failure with an " + codes.Name + " for programs and a message for people: what the relay " +
		"sends in `error` events, in connect_error data, in failed acknowledgements and in REST error bodies, and " +
		"what the Go clients return when they receive one. errors.Is(err, ErrNotFound) reports whether err carries " +
		codes.Name + "NotFound, whatever its message, so programs decide on the code and never on the text."))
	f.Type().Id("Error").Struct(
		doc("Code says what kind of failure it is."),
		jen.Id("Code").Add(code),
		doc("Message says what went wrong, for people; the sentinels have none."),
		jen.Id("Message").String(),
		doc("Err is the cause, if any. It stays on this side of the wire."),
		jen.Id("Err").Error(),
	)
	f.Line()

	f.Add(doc("NewError returns an error with code and message."))
	f.Func().Id("NewError").Params(jen.Id("code").Add(code), jen.Id("message").String()).Op("*").Id("Error").Block(
		jen.Return(jen.Op("&").Id("Error").Values(jen.Dict{jen.Id("Code"): jen.Id("code"), jen.Id("Message"): jen.Id("message")})),
	)
	f.Line()

	f.Add(doc("Errorf returns an error with code whose message is formatted as fmt.Errorf formats it; the operand of a " +
		"single %w becomes the cause."))
	f.Func().Id("Errorf").Params(jen.Id("code").Add(code), jen.Id("format").String(), jen.Id("args").Op("...").Any()).Op("*").Id("Error").Block(
		jen.Err().Op(":=").Qual("fmt", "Errorf").Call(jen.Id("format"), jen.Id("args").Op("...")),
		jen.Return(jen.Op("&").Id("Error").Values(jen.Dict{
			jen.Id("Code"):    jen.Id("code"),
			jen.Id("Message"): jen.Err().Dot("Error").Call(),
			jen.Id("Err"):     jen.Qual("errors", "Unwrap").Call(jen.Err()),
		})),
	)
	f.Line()

	f.Add(doc("Error returns the message, or the code when there is no message."))
	f.Func().Params(jen.Id("e").Op("*").Id("Error")).Id("Error").Params().String().Block(
		jen.If(jen.Id("e").Dot("Message").Op("==").Lit("")).Block(jen.Return(jen.String().Call(jen.Id("e").Dot("Code")))),
		jen.Return(jen.Id("e").Dot("Message")),
	)
	f.Line()

	f.Add(doc("Unwrap returns the cause."))
	f.Func().Params(jen.Id("e").Op("*").Id("Error")).Id("Unwrap").Params().Error().Block(jen.Return(jen.Id("e").Dot("Err")))
	f.Line()

	f.Add(doc("Is reports whether target is the sentinel of e's code (an *Error with neither message nor cause), so " +
		"that every error with a code matches that code's sentinel in errors.Is. Errors with a message match only " +
		"themselves."))
	f.Func().Params(jen.Id("e").Op("*").Id("Error")).Id("Is").Params(jen.Id("target").Error()).Bool().Block(
		jen.List(jen.Id("t"), jen.Id("ok")).Op(":=").Id("target").Assert(jen.Op("*").Id("Error")),
		jen.Return(jen.Id("ok").Op("&&").Id("t").Dot("Code").Op("==").Id("e").Dot("Code").Op("&&").Id("t").Dot("Message").Op("==").Lit("").Op("&&").Id("t").Dot("Err").Op("==").Nil()),
	)
	f.Line()

	f.Add(doc("CodeOf returns the code of the first *Error in err's chain, or \"\" when there is none."))
	f.Func().Id("CodeOf").Params(jen.Err().Error()).Add(code).Block(
		jen.Var().Id("e").Op("*").Id("Error"),
		jen.If(jen.Qual("errors", "As").Call(jen.Err(), jen.Op("&").Id("e"))).Block(jen.Return(jen.Id("e").Dot("Code"))),
		jen.Return(jen.Lit("")),
	)
	f.Line()

	if msg != nil {
		f.Add(doc("RefusedAck returns the error of an acknowledgement that is an " + msg.Name + ": the answer of a " +
			"receiver that refused the event (its payload did not match the contract, the sender may not send it) " +
			"instead of the acknowledgement the event defines. It returns nil when raw is not one. The generated " +
			"emitters call it when an acknowledgement does not decode, so that a refusal is an *Error with its code."))
		f.Func().Id("RefusedAck").Params(jen.Id("raw").Index().Byte()).Op("*").Id("Error").Block(
			jen.Var().Id("m").Id(msg.Name),
			jen.If(jen.Id("m").Dot("UnmarshalJSON").Call(jen.Id("raw")).Op("!=").Nil()).Block(jen.Return(jen.Nil())),
			jen.Return(jen.Id("NewError").Call(jen.Id("m").Dot("Code"), jen.Id("m").Dot("Message"))),
		)
		f.Line()
	}

	f.Add(doc("The sentinel errors, one per " + codes.Name + ": errors.Is(err, ErrNotFound) holds for every error whose " +
		"code is " + codes.Name + "NotFound."))
	f.Var().DefsFunc(func(grp *jen.Group) {
		for i, v := range codes.Enum {
			what := ""
			if codes.EnumDocs != nil {
				what = ": " + lowerFirst(codes.EnumDocs[i])
			}
			grp.Add(doc(fmt.Sprintf("%s matches the errors with code %q%s", sentinelName(v), v, what)))
			grp.Id(sentinelName(v)).Op("=").Op("&").Id("Error").Values(jen.Dict{jen.Id("Code"): jen.Id(codes.Name + goName(v))})
		}
	})
	return f
}

// lowerFirst lower-cases the first letter of a sentence that starts with an ordinary word.
func lowerFirst(s string) string {
	r := []rune(s)
	if len(r) > 1 && r[0] >= 'A' && r[0] <= 'Z' && (r[1] == ' ' || r[1] >= 'a' && r[1] <= 'z') {
		r[0] += 'a' - 'A'
	}
	return string(r)
}
