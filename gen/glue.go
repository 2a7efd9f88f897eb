package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// The glue: per namespace, Mount (the server side, on any wire.Mounter) and Dial (Go clients, on
// any wire.Dialer), so that nobody wires event names, handshake auth or dispatchers by hand. The
// shared package gets the transport-facing interfaces under protocol names and AuthError, which
// needs the error codes invalid and unauthorized.

// glueNames are the names the glue declares in the shared package.
var glueNames = []string{"Socket", "Namespace", "Mounter", "Hooks", "ClientConn", "Conn", "Dialer", "AuthError"}

// socketMethod is the method of a namespace's ServerSocket that is not an event handler.
const socketMethod = "Disconnected"

// clientMethods are the methods of a namespace's Client that do not send an event.
var clientMethods = []string{"Connect", "SetAuth", "SetAuthJSON", "Sender", "Close", "Abandon", "DropTransport"}

// checkGlue makes sure that the contract has what the glue needs: the error codes it answers a
// bad handshake with, free names in the shared package, and event methods that do not collide
// with the ServerSocket's or the Client's own.
func (g *goGen) checkGlue() error {
	codes := g.c.errorCodes()
	for _, want := range []string{"invalid", "unauthorized"} {
		if codes == nil || !contains(codes.Enum, want) {
			return fmt.Errorf("%s: the namespaces' Mount needs an %s enum with the value %q", g.c.Shared.File, errorCodeType, want)
		}
	}
	for _, t := range g.c.Shared.Types {
		if contains(glueNames, t.Name) {
			return fmt.Errorf("%s: type name %s is taken by the generated glue", g.c.Shared.File, t.Name)
		}
	}
	for _, ns := range g.c.Namespaces {
		for _, ev := range ns.Groups[ClientToServer].Events {
			if goName(ev.Name) == socketMethod {
				return fmt.Errorf("%s: the handler method of event %q would collide with ServerSocket.%s", ns.File, ev.Name, socketMethod)
			}
			if contains(clientMethods, goName(ev.Name)) {
				return fmt.Errorf("%s: the emitter method of event %q would collide with Client.%s", ns.File, ev.Name, goName(ev.Name))
			}
		}
	}
	return nil
}

// sharedGlueFile writes glue.go of the shared package.
func (g *goGen) sharedGlueFile() *jen.File {
	f := g.newFile(g.c.Shared)
	alias := func(name, text string, generic bool) {
		f.Add(doc(text))
		if generic {
			f.Type().Id(name).Types(jen.Id("C").Any()).Op("=").Add(g.wire(name)).Types(jen.Id("C"))
		} else {
			f.Type().Id(name).Op("=").Add(g.wire(name))
		}
		f.Line()
	}
	alias("Socket", "Socket is one connected socket as a server transport drives it: each event through Dispatch, "+
		"one at a time and in order, then Disconnected once. The namespaces' Mount functions adapt their ServerSocket to it.", false)
	alias("Namespace", "Namespace is one namespace as a Mount function hands it to a Mounter: its path, how its "+
		"handshake auth is checked and how a socket is connected. C is what the server keeps for a connecting socket.", true)
	alias("Mounter", "Mounter registers namespaces on a server transport, authenticating each connecting socket "+
		"by the credential of its handshake auth (or a session cookie where the namespace allows one).", true)
	alias("Hooks", "Hooks tell a Go client how its connection fares: connected, refused (a *Error, so "+
		"errors.Is(err, ErrUnauthorized) holds for a refused credential), disconnected and events it could not handle.", false)
	alias("ClientConn", "ClientConn is a Go client's connection to one namespace, under the namespaces' Client types.", false)
	alias("Conn", "Conn runs a Go client's connection under the namespaces' Client types: Connect, Close, Abandon, "+
		"DropTransport.", false)
	alias("Dialer", "Dialer opens Go clients' connections for the namespaces' Dial functions; internal/sioclient "+
		"implements it over Socket.IO.", false)

	f.Add(doc("AuthError is how the Mount functions refuse a handshake auth object that does not match the contract. " +
		"A problem with the credential (credential is its JSON pointer, \"\" when the namespace has none) is code " +
		"unauthorized, whatever the problem, as for a credential the server does not accept; any other is code invalid " +
		"and wraps the *ValidationError naming the JSON pointer of the problem."))
	f.Func().Id("AuthError").Params(jen.Id("err").Error(), jen.Id("credential").String()).Error().Block(
		jen.Var().Id("ve").Op("*").Id("ValidationError"),
		jen.If(jen.Op("!").Qual("errors", "As").Call(jen.Id("err"), jen.Op("&").Id("ve"))).Block(
			jen.Return(jen.Id("Errorf").Call(jen.Id(errorCodeType+"Invalid"), jen.Lit("invalid handshake auth: %w"), jen.Id("err"))),
		),
		jen.If(jen.Id("credential").Op("!=").Lit("").Op("&&").Parens(
			jen.Id("ve").Dot("Pointer").Op("==").Id("credential").Op("||").Qual("strings", "HasPrefix").Call(jen.Id("ve").Dot("Pointer"), jen.Id("credential").Op("+").Lit("/")),
		)).Block(
			jen.Return(jen.Id("NewError").Call(jen.Id(errorCodeType+"Unauthorized"), jen.Lit("unauthorized"))),
		),
		jen.Return(jen.Id("Errorf").Call(jen.Id(errorCodeType+"Invalid"), jen.Lit("invalid handshake auth at %w"), jen.Id("ve"))),
	)
	return f
}

// glueFile writes glue.go of a namespace package: ServerSocket, Mount, Client and Dial.
func (g *goGen) glueFile(ns *Namespace) *jen.File {
	f := g.newFile(ns.Package)
	auth := jen.Op("*").Add(g.qual(ns.Auth))
	ctx := jen.Qual("context", "Context")

	f.Add(doc(fmt.Sprintf("ServerSocket is the server's side of one %s socket: the handler of the events clients send, "+
		"and %s, called once after the socket's last event.", ns.Path, socketMethod)))
	f.Type().Id("ServerSocket").Interface(
		jen.Id("ServerHandler"),
		doc(fmt.Sprintf("%s reports that the socket is gone: clientLeft says that the client closed the namespace on purpose; "+
			"reason is the transport's description, for logs.", socketMethod)),
		jen.Id(socketMethod).Params(jen.Id("reason").String(), jen.Id("clientLeft").Bool()),
	)
	f.Line()

	credential, credentialPointer := "; the namespace has no credential, so m identifies the user by the session cookie", ""
	required := false
	if c := ns.Credential; c != nil {
		required = c.Required
		credentialPointer = "/" + escapePointer(c.Name)
		credential = fmt.Sprintf(" and carry the credential %q, which m authenticates (no session cookie may stand in for it)", c.Name)
		if !required {
			credential = fmt.Sprintf("; m authenticates its credential %q, or a browser's session cookie when it is left out", c.Name)
		}
	}
	f.Add(doc(fmt.Sprintf("Mount registers %s on m. The handshake auth of a connecting socket must match %s%s; "+
		"a mismatch is refused (see protocol.AuthError). connect then returns the socket's ServerSocket, whose events "+
		"go through DispatchServer, or nil when it answered the client and closed the socket itself.",
		ns.Path, ns.Auth.Name, credential)))
	credentialValue := jen.Lit("")
	if c := ns.Credential; c != nil {
		credentialValue = jen.Id("a").Dot(c.GoName)
		if !c.Required {
			credentialValue = jen.Id("a").Dot(c.GoName).Dot("Or").Call(jen.Lit(""))
		}
	}
	credentialFunc := jen.Func().Params(jen.Id("a").Add(auth.Clone())).String().Block(jen.Return(credentialValue))
	f.Func().Id("Mount").Types(jen.Id("C").Any()).Params(
		jen.Id("m").Add(g.shared("Mounter")).Types(jen.Id("C")),
		jen.Id("connect").Func().Params(jen.Id("ctx").Add(ctx), jen.Id("c").Id("C"), jen.Id("auth").Add(auth)).Params(jen.Id("ServerSocket"), jen.Error()),
	).Block(
		g.wire("Mount").Call(jen.Id("m"), g.wire("Typed").Types(g.qual(ns.Auth), jen.Id("ServerSocket")).ValuesFunc(func(v *jen.Group) {
			v.Line().Id("Path").Op(":").Id("Namespace")
			if required {
				v.Line().Id("CredentialRequired").Op(":").True()
			}
			v.Line().Id("DecodeAuth").Op(":").Id("decodeAuth")
			v.Line().Id("Credential").Op(":").Add(credentialFunc)
			v.Line().Id("Dispatch").Op(":").Func().Params(
				jen.Id("ctx").Add(ctx), jen.Id("s").Id("ServerSocket"), jen.Id("event").String(), jen.Id("payload").Index().Byte(),
			).Params(jen.Index().Byte(), jen.Error()).Block(
				jen.Return(jen.Id("DispatchServer").Call(jen.Id("ctx"), jen.Id("s"), jen.Id("event"), jen.Id("payload"))),
			)
			v.Line()
		}), jen.Id("connect")),
	)
	f.Line()

	f.Add(doc(fmt.Sprintf("decodeAuth decodes and checks a handshake auth object of %s (see protocol.AuthError).", ns.Path)))
	f.Func().Id("decodeAuth").Params(jen.Id("raw").Index().Byte()).Params(auth.Clone(), jen.Error()).Block(
		jen.Id("a").Op(":=").New(g.qual(ns.Auth)),
		jen.If(jen.Err().Op(":=").Id("a").Dot("UnmarshalJSON").Call(jen.Id("raw")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), g.shared("AuthError").Call(jen.Err(), jen.Lit(credentialPointer))),
		),
		jen.Return(jen.Id("a"), jen.Nil()),
	)
	f.Line()

	f.Add(doc(fmt.Sprintf("Client is a Go program's connection to %s: its ClientEmitter sends the client's events, "+
		"the ClientHandler given to Dial receives the server's, and its Conn runs the connection "+
		"(Connect, Close, Abandon, DropTransport).", ns.Path)))
	f.Type().Id("Client").Struct(
		jen.Id("ClientEmitter"),
		jen.Op("*").Add(g.shared("Conn")),
	)
	f.Line()
	f.Add(doc(fmt.Sprintf("Dial prepares a connection to %s with the handshake auth a; Connect starts it, so that the "+
		"caller can keep the Client where its handler finds it before the first event arrives. Each event from the "+
		"server goes through DispatchClient to h with ctx (which does not bound the connection: Close ends it); "+
		"hooks report the connection's life. Once Close or Abandon is called, h gets no more events.", ns.Path)))
	f.Func().Id("Dial").Params(
		jen.Id("ctx").Add(ctx),
		jen.Id("d").Add(g.shared("Dialer")),
		jen.Id("a").Add(auth),
		jen.Id("h").Id("ClientHandler"),
		jen.Id("hooks").Add(g.shared("Hooks")),
	).Params(jen.Op("*").Id("Client"), jen.Error()).Block(
		jen.List(jen.Id("conn"), jen.Err()).Op(":=").Add(g.wire("DialConn")).Call(
			jen.Id("d"),
			jen.Id("Namespace"),
			jen.Id("a").Dot("AppendJSON").Call(jen.Nil()),
			jen.Id("hooks"),
			jen.Func().Params(jen.Id("event").String(), jen.Id("payload").Index().Byte()).Error().Block(
				jen.List(jen.Id("_"), jen.Err()).Op(":=").Id("DispatchClient").Call(jen.Id("ctx"), jen.Id("h"), jen.Id("event"), jen.Id("payload")),
				jen.Return(jen.Err()),
			),
		),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Op("&").Id("Client").Values(jen.Dict{
			jen.Id("ClientEmitter"): jen.Id("ClientEmitter").Values(jen.Dict{jen.Id("S"): jen.Id("conn").Dot("Sender").Call()}),
			jen.Id("Conn"):          jen.Id("conn"),
		}), jen.Nil()),
	)
	f.Line()
	f.Add(doc("SetAuth replaces the handshake auth sent on the next (re)connection with a."))
	f.Func().Params(jen.Id("c").Op("*").Id("Client")).Id("SetAuth").Params(jen.Id("a").Add(auth)).Block(
		jen.Id("c").Dot("SetAuthJSON").Call(jen.Id("a").Dot("AppendJSON").Call(jen.Nil())),
	)
	return f
}
