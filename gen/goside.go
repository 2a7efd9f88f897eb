package gen

import (
	"fmt"
	"go/format"

	"github.com/dave/jennifer/jen"
)

// sideFile writes the handler interface, its Unimplemented implementation, the dispatcher and the
// emitter of one side of a namespace.
func (g *goGen) sideFile(ns *Namespace, s side) *jen.File {
	f := g.newFile(ns.Package)
	handled := ns.Groups[s.handles].Events
	emitted := ns.Groups[s.emits].Events
	handler := s.name + "Handler"
	unimpl := "Unimplemented" + handler

	f.Add(doc(fmt.Sprintf("%s handles the events %s on %s. Implementations should embed %s so that "+
		"events added to the contract later do not break them.", handler, s.from, ns.Path, unimpl)))
	f.Type().Id(handler).InterfaceFunc(func(grp *jen.Group) {
		for _, ev := range handled {
			grp.Add(doc(fmt.Sprintf("%s handles %q.", goName(ev.Name), ev.Name), ev.Description, ackNote(ev)))
			grp.Id(goName(ev.Name)).Add(g.handlerSignature(ev))
		}
	})
	f.Line()
	f.Add(doc(fmt.Sprintf("%s answers every event with an error wrapping protocol.ErrUnimplemented.", unimpl)))
	f.Type().Id(unimpl).Struct()
	f.Line()
	for _, ev := range handled {
		f.Add(doc(fmt.Sprintf("%s reports that %q is not implemented.", goName(ev.Name), ev.Name)))
		var ret []jen.Code
		if ev.Ack != nil {
			ret = append(ret, jen.Nil())
		}
		ret = append(ret, g.wire("Unimplemented").Call(jen.Id("Namespace"), jen.Id(eventConst(ev.Name))))
		f.Func().Params(jen.Id(unimpl)).Id(goName(ev.Name)).Add(g.handlerSignatureAnon(ev)).Block(jen.Return(ret...))
		f.Line()
	}

	dispatch := "Dispatch" + s.name
	f.Add(doc(fmt.Sprintf("%s checks payload, the single JSON-object argument of event, against the contract and "+
		"calls the matching method of h. For events with an acknowledgement it returns the encoded ack. "+
		"The decoded payload shares memory with payload, which must not be modified afterwards. "+
		"An unknown event or a payload that does not match returns a *protocol.EventError naming the event "+
		"and the JSON pointer of the problem; errors from h are returned as they are.", dispatch)))
	f.Func().Id(dispatch).Params(
		jen.Id("ctx").Qual("context", "Context"),
		jen.Id("h").Id(handler),
		jen.Id("event").String(),
		jen.Id("payload").Index().Byte(),
	).Params(jen.Index().Byte(), jen.Error()).BlockFunc(func(grp *jen.Group) {
		if len(handled) == 0 {
			grp.Return(jen.Nil(), g.wire("UnknownEvent").Call(jen.Id("Namespace"), jen.Id("event")))
			return
		}
		grp.Switch(jen.Id("event")).BlockFunc(func(sw *jen.Group) {
			for _, ev := range handled {
				body := []jen.Code{
					jen.Id("p").Op(":=").New(g.qual(ev.Payload)),
					jen.If(jen.Err().Op(":=").Add(g.wire("DecodeEvent")).Call(jen.Id("Namespace"), jen.Id("event"), jen.Id("payload"), jen.Id("p")), jen.Err().Op("!=").Nil()).Block(
						jen.Return(jen.Nil(), jen.Err()),
					),
				}
				call := jen.Id("h").Dot(goName(ev.Name)).Call(jen.Id("ctx"), jen.Id("p"))
				if ev.Ack != nil {
					body = append(body,
						jen.List(jen.Id("ack"), jen.Err()).Op(":=").Add(call),
						jen.If(jen.Err().Op("!=").Nil().Op("||").Id("ack").Op("==").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
						jen.Return(jen.Id("ack").Dot("AppendJSON").Call(jen.Nil()), jen.Nil()),
					)
				} else {
					body = append(body, jen.Return(jen.Nil(), call))
				}
				sw.Case(jen.Id(eventConst(ev.Name))).Block(body...)
			}
		})
		grp.Return(jen.Nil(), g.wire("UnknownEvent").Call(jen.Id("Namespace"), jen.Id("event")))
	})
	f.Line()

	emitter := s.name + "Emitter"
	refusals := g.c.errorMessage(g.c.errorCodes()) != nil
	senderType := "Sender"
	for _, ev := range emitted {
		if ev.Ack != nil {
			senderType = "AckSender"
		}
	}
	f.Add(doc(fmt.Sprintf("%s sends the events of %s from %s to %s. S is a socket, a room broadcast or "+
		"anything else that can send an event.", emitter, ns.Path, sideSender(s), s.to)))
	f.Type().Id(emitter).Struct(
		doc("S transmits the encoded events."),
		jen.Id("S").Add(g.shared(senderType)),
	)
	f.Line()
	for _, ev := range emitted {
		name := goName(ev.Name)
		if ev.Ack == nil {
			f.Add(doc(fmt.Sprintf("%s sends %q.", name, ev.Name), ev.Description))
			f.Func().Params(jen.Id("e").Id(emitter)).Id(name).Params(jen.Id("p").Op("*").Add(g.qual(ev.Payload))).Error().Block(
				jen.Return(jen.Id("e").Dot("S").Dot("Send").Call(jen.Id(eventConst(ev.Name)), jen.Id("p").Dot("AppendJSON").Call(jen.Nil()))),
			)
			f.Line()
			continue
		}
		what := fmt.Sprintf("%s sends %q and waits for its acknowledgement, which it decodes and checks.", name, ev.Name)
		failed := []jen.Code{jen.Return(jen.Nil(), jen.Err())}
		if refusals {
			what += " A refusal (an " + errorMessageType + " in place of the acknowledgement) is returned as a *protocol.Error with its code."
			failed = append([]jen.Code{
				jen.If(jen.Id("refused").Op(":=").Add(g.shared("RefusedAck")).Call(jen.Id("raw")), jen.Id("refused").Op("!=").Nil()).Block(
					jen.Return(jen.Nil(), jen.Id("refused")),
				),
			}, failed...)
		}
		f.Add(doc(what, ev.Description))
		f.Func().Params(jen.Id("e").Id(emitter)).Id(name).Params(
			jen.Id("ctx").Qual("context", "Context"),
			jen.Id("p").Op("*").Add(g.qual(ev.Payload)),
		).Params(jen.Op("*").Add(g.qual(ev.Ack)), jen.Error()).Block(
			jen.List(jen.Id("raw"), jen.Err()).Op(":=").Id("e").Dot("S").Dot("SendWithAck").Call(jen.Id("ctx"), jen.Id(eventConst(ev.Name)), jen.Id("p").Dot("AppendJSON").Call(jen.Nil())),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Id("ack").Op(":=").New(g.qual(ev.Ack)),
			jen.If(jen.Err().Op(":=").Add(g.wire("DecodeAck")).Call(jen.Id("Namespace"), jen.Id(eventConst(ev.Name)), jen.Id("raw"), jen.Id("ack")), jen.Err().Op("!=").Nil()).Block(failed...),
			jen.Return(jen.Id("ack"), jen.Nil()),
		)
		f.Line()
	}
	return f
}

func sideSender(s side) string {
	switch s.name {
	case "Server":
		return "the server"
	case "Client":
		return "a client"
	}
	return "one relay node"
}

func ackNote(ev *Event) string {
	if ev.Ack == nil {
		return ""
	}
	return fmt.Sprintf("The returned %s is sent as the acknowledgement when the sender asked for one.", ev.Ack.Name)
}

func (g *goGen) handlerSignature(ev *Event) *jen.Statement {
	params := jen.Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("p").Op("*").Add(g.qual(ev.Payload)))
	if ev.Ack != nil {
		return params.Params(jen.Op("*").Add(g.qual(ev.Ack)), jen.Error())
	}
	return params.Error()
}

func (g *goGen) handlerSignatureAnon(ev *Event) *jen.Statement {
	params := jen.Params(jen.Qual("context", "Context"), jen.Op("*").Add(g.qual(ev.Payload)))
	if ev.Ack != nil {
		return params.Params(jen.Op("*").Add(g.qual(ev.Ack)), jen.Error())
	}
	return params.Error()
}

// formatGo gofmt-formats generated source.
func formatGo(src []byte) ([]byte, error) {
	return format.Source(src)
}
