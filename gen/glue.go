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
var glueNames = []string{"Socket", "Namespace", "Mounter", "Hooks", "ClientConn", "Dialer", "AuthError"}

// socketMethod is the method of a namespace's ServerSocket that is not an event handler.
const socketMethod = "Disconnected"

// checkGlue makes sure that the contract has what the glue needs: the error codes it answers a
// bad handshake with, free names in the shared package, and event handler methods that do not
// collide with the ServerSocket's own.
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
	f.Func().Id("Mount").Types(jen.Id("C").Any()).Params(
		jen.Id("m").Add(g.shared("Mounter")).Types(jen.Id("C")),
		jen.Id("connect").Func().Params(jen.Id("ctx").Add(ctx), jen.Id("c").Id("C"), jen.Id("auth").Add(auth)).Params(jen.Id("ServerSocket"), jen.Error()),
	).Block(
		jen.Id("m").Dot("MountNamespace").Call(g.shared("Namespace").Types(jen.Id("C")).ValuesFunc(func(v *jen.Group) {
			v.Line().Id("Path").Op(":").Id("Namespace")
			if required {
				v.Line().Id("CredentialRequired").Op(":").True()
			}
			v.Line().Id("Credential").Op(":").Func().Params(jen.Id("raw").Index().Byte()).Params(jen.String(), jen.Error()).Block(
				jen.List(jen.Id("a"), jen.Err()).Op(":=").Id("decodeAuth").Call(jen.Id("raw")),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(""), jen.Err())),
				jen.Return(credentialValue, jen.Nil()),
			)
			v.Line().Id("Connect").Op(":").Func().Params(jen.Id("ctx").Add(ctx), jen.Id("c").Id("C"), jen.Id("raw").Index().Byte()).Params(g.shared("Socket"), jen.Error()).Block(
				jen.List(jen.Id("a"), jen.Err()).Op(":=").Id("decodeAuth").Call(jen.Id("raw")),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
				jen.List(jen.Id("s"), jen.Err()).Op(":=").Id("connect").Call(jen.Id("ctx"), jen.Id("c"), jen.Id("a")),
				jen.If(jen.Err().Op("!=").Nil().Op("||").Id("s").Op("==").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
				jen.Return(jen.Id("serverSocket").Values(jen.Id("s")), jen.Nil()),
			)
			v.Line()
		})),
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

	f.Add(doc("serverSocket is a ServerSocket as the transport drives it."))
	f.Type().Id("serverSocket").Struct(jen.Id("ServerSocket"))
	f.Line()
	f.Add(doc("Dispatch implements protocol.Socket through DispatchServer."))
	f.Func().Params(jen.Id("s").Id("serverSocket")).Id("Dispatch").Params(
		jen.Id("ctx").Add(ctx), jen.Id("event").String(), jen.Id("payload").Index().Byte(),
	).Params(jen.Index().Byte(), jen.Error()).Block(
		jen.Return(jen.Id("DispatchServer").Call(jen.Id("ctx"), jen.Id("s").Dot("ServerSocket"), jen.Id("event"), jen.Id("payload"))),
	)
	f.Line()

	f.Add(doc(fmt.Sprintf("Client is a Go program's connection to %s: its ClientEmitter sends the client's events, "+
		"the ClientHandler given to Dial receives the server's.", ns.Path)))
	f.Type().Id("Client").Struct(
		jen.Id("ClientEmitter"),
		jen.Id("conn").Add(g.shared("ClientConn")),
		jen.Id("closed").Qual("sync/atomic", "Bool"),
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
		jen.Id("c").Op(":=").New(jen.Id("Client")),
		jen.List(jen.Id("conn"), jen.Err()).Op(":=").Id("d").Dot("Dial").Call(
			jen.Id("Namespace"),
			jen.Id("a").Dot("AppendJSON").Call(jen.Nil()),
			jen.Id("hooks"),
			jen.Func().Params(jen.Id("event").String(), jen.Id("payload").Index().Byte()).Block(
				jen.If(jen.Id("c").Dot("closed").Dot("Load").Call()).Block(jen.Return()),
				jen.If(
					jen.List(jen.Id("_"), jen.Err()).Op(":=").Id("DispatchClient").Call(jen.Id("ctx"), jen.Id("h"), jen.Id("event"), jen.Id("payload")),
					jen.Err().Op("!=").Nil().Op("&&").Id("hooks").Dot("EventFailed").Op("!=").Nil(),
				).Block(
					jen.Id("hooks").Dot("EventFailed").Call(jen.Id("event"), jen.Err()),
				),
			),
		),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Id("c").Dot("conn").Op("=").Id("conn"),
		jen.Id("c").Dot("S").Op("=").Id("conn"),
		jen.Return(jen.Id("c"), jen.Nil()),
	)
	f.Line()
	method := func(name, text string, body ...jen.Code) {
		f.Add(doc(text))
		f.Func().Params(jen.Id("c").Op("*").Id("Client")).Id(name).Params().Block(body...)
		f.Line()
	}
	method("Connect", "Connect starts connecting; the hooks report how it goes.", jen.Id("c").Dot("conn").Dot("Connect").Call())
	f.Add(doc("SetAuth replaces the handshake auth sent on the next (re)connection with a."))
	f.Func().Params(jen.Id("c").Op("*").Id("Client")).Id("SetAuth").Params(jen.Id("a").Add(auth)).Block(
		jen.Id("c").Dot("conn").Dot("SetAuth").Call(jen.Id("a").Dot("AppendJSON").Call(jen.Nil())),
	)
	f.Line()
	method("Close", "Close leaves the namespace, so that the server sees a client that left on purpose, and stops reconnecting.",
		jen.Id("c").Dot("closed").Dot("Store").Call(jen.True()),
		jen.Id("c").Dot("conn").Dot("Close").Call(),
	)
	method("Abandon", "Abandon drops the connection as a network failure would, without leaving the namespace, and stops "+
		"reconnecting: the server keeps what this client held for a connection that takes over.",
		jen.Id("c").Dot("closed").Dot("Store").Call(jen.True()),
		jen.Id("c").Dot("conn").Dot("Abandon").Call(),
	)
	method("DropTransport", "DropTransport closes the underlying connection as a network failure would; a client that "+
		"reconnects connects again.", jen.Id("c").Dot("conn").Dot("DropTransport").Call())
	return f
}
