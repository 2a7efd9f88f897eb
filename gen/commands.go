package gen

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

// commandsGroup is the $defs entry of a types-only schema file that declares exec commands.
const commandsGroup = "commands"

// Command is one remote command of the agent (the `exec` event's `command`): its parameters,
// which travel beside `id` and `command` in the exec payload, and its result, which travels in
// the `result` of a successful exec_result.
type Command struct {
	Name        string
	Description string
	Params      *Type // an object type
	Result      *Ref  // an object type, possibly nullable; nil when the command returns nothing
	Examples    []json.RawMessage
}

// GoName is the command's name in Go identifiers ("set_model" gives "SetModel").
func (c *Command) GoName() string { return goName(c.Name) }

// commandDeclarations are the names the generated commands file declares besides the types.
var commandDeclarations = []string{"Names", "Handler", "UnimplementedHandler", "Dispatch", "Caller", "Executor",
	"CommandError", "ErrUnknownCommand", "AppendExec"}

// buildCommands reads the commands group of a types-only file: each entry is a command whose
// schema is its parameter object and whose $defs/result, when present, is its result.
func (b *builder) buildCommands(p *Package, l loc, n *node) error {
	for _, m := range n.members {
		if m.key != "description" && m.key != "$defs" && m.key != "$comment" {
			return b.errorf(l, "unsupported keyword %q in the commands group (only description and $defs)", m.key)
		}
	}
	if !b.sharedExec() {
		return b.errorf(l, "commands travel in the shared file's Exec type, an open object with a required string property \"command\": declare it")
	}
	if n.getString("description") == "" {
		return b.errorf(l, "the commands group needs a description")
	}
	defs := n.get("$defs")
	if defs == nil {
		return nil
	}
	for _, m := range defs.members {
		c, err := b.buildCommand(p, l.child("$defs", m.key), m.key, m.value)
		if err != nil {
			return err
		}
		p.Commands = append(p.Commands, c)
	}
	taken := map[string]bool{}
	for _, id := range commandDeclarations {
		taken[id] = true
	}
	for _, c := range p.Commands {
		taken["Command"+c.GoName()] = true
	}
	for _, t := range p.Types {
		if taken[t.Name] {
			return b.errorf(l, "type %s has the Go name of a generated declaration; rename it with a title", t.Name)
		}
	}
	return nil
}

// sharedExec reports whether the shared file declares the exec payload the generated dispatcher
// reads: Exec, an open object with a required string property "command".
func (b *builder) sharedExec() bool {
	for _, f := range b.files {
		if f.pkg == nil || f.pkg.Name != sharedPackage {
			continue
		}
		for _, t := range f.pkg.Types {
			if t.Name != "Exec" || t.Kind != KindObject || !t.Open {
				continue
			}
			for _, fd := range t.Fields {
				if fd.Name == "command" && fd.Required && fd.Ref.Type.Kind == KindString && !fd.Ref.Nullable {
					return true
				}
			}
		}
	}
	return false
}

func (b *builder) buildCommand(p *Package, l loc, name string, n *node) (*Command, error) {
	b.context = fmt.Sprintf("command %q", name)
	defer func() { b.context = "" }()
	if !isIdentifier(goName(name)) || strings.ToLower(name) != name {
		return nil, b.errorf(l, "a command name is lower-case words joined by underscores")
	}
	c := &Command{Name: name, Description: n.getString("description")}
	if c.Description == "" {
		return nil, b.errorf(l, "the command needs a description")
	}
	if n.get("$ref") != nil || n.get("title") != nil {
		return nil, b.errorf(l, "the parameters of a command are written inline, without a title")
	}
	r, err := b.ref(l, n, c.GoName()+"Params")
	if err != nil {
		return nil, err
	}
	if r.Type.Kind != KindObject || r.Nullable {
		return nil, b.errorf(l, "the parameters must be an object")
	}
	c.Params = r.Type
	c.Params.Description = fmt.Sprintf("The parameter object of the `%s` command.", name)
	if defs := n.get("$defs"); defs != nil {
		for _, m := range defs.members {
			if m.key != "result" {
				return nil, b.errorf(l, "unsupported $defs entry %q in a command (only result)", m.key)
			}
			rr, err := b.ref(l.child("$defs", "result"), m.value, c.GoName()+"Result")
			if err != nil {
				return nil, err
			}
			if rr.Type.Kind != KindObject {
				return nil, b.errorf(l.child("$defs", "result"), "the result must be an object (or an object or null)")
			}
			c.Result = &rr
		}
	}
	if c.Examples, err = b.examples(l, n); err != nil {
		return nil, err
	}
	if len(c.Examples) == 0 {
		return nil, b.errorf(l, "the command needs at least one example of its parameters")
	}
	return c, nil
}

func commandConst(c *Command) string { return "Command" + c.GoName() }

// commandsFile writes the Go side of a package's commands: their names, the agent-side Handler
// with its Unimplemented default and Dispatch, and the viewer-side Caller.
func (g *goGen) commandsFile(p *Package) *jen.File {
	f := g.newFile(p)
	f.Add(doc("The names of the exec commands."))
	f.Const().DefsFunc(func(grp *jen.Group) {
		for _, c := range p.Commands {
			grp.Add(doc(fmt.Sprintf("%s is the name of %q. %s", commandConst(c), c.Name, c.Description)))
			grp.Id(commandConst(c)).Op("=").Lit(c.Name)
		}
	})
	f.Line()
	f.Add(doc("Names lists the exec commands, in schema order."))
	f.Var().Id("Names").Op("=").Index().String().ValuesFunc(func(grp *jen.Group) {
		for _, c := range p.Commands {
			grp.Id(commandConst(c))
		}
	})
	f.Line()
	f.Add(doc("ErrUnknownCommand is wrapped by the error Dispatch returns for a command the contract does not define; its text is PizzaPi's answer, \"Unknown exec command: NAME\"."))
	f.Var().Id("ErrUnknownCommand").Op("=").Add(g.wire("ErrUnknownCommand"))
	f.Line()
	f.Add(doc("CommandError is a command that cannot be carried out: unknown, not implemented by the agent (it wraps protocol.ErrUnimplemented), or with parameters or a result that do not match the contract. Its text is what the viewer is told."))
	f.Type().Id("CommandError").Op("=").Add(g.wire("CommandError"))
	f.Line()

	f.Add(doc("Handler carries out the exec commands on the agent side. Implementations should embed UnimplementedHandler, so that a command added to the contract later is answered with an error saying the agent does not support it."))
	f.Type().Id("Handler").InterfaceFunc(func(grp *jen.Group) {
		for _, c := range p.Commands {
			grp.Add(doc(fmt.Sprintf("%s runs %q. %s", c.GoName(), c.Name, c.Description)))
			grp.Id(c.GoName()).Add(g.commandSignature(c, true))
		}
	})
	f.Line()
	f.Add(doc("UnimplementedHandler answers every command with a *CommandError wrapping protocol.ErrUnimplemented."))
	f.Type().Id("UnimplementedHandler").Struct()
	f.Line()
	for _, c := range p.Commands {
		f.Add(doc(fmt.Sprintf("%s reports that %q is not supported.", c.GoName(), c.Name)))
		var ret []jen.Code
		if c.Result != nil {
			ret = append(ret, jen.Nil())
		}
		ret = append(ret, g.wire("UnimplementedCommand").Call(jen.Id(commandConst(c))))
		f.Func().Params(jen.Id("UnimplementedHandler")).Id(c.GoName()).Add(g.commandSignature(c, false)).Block(jen.Return(ret...))
		f.Line()
	}

	f.Add(doc("Dispatch checks the parameters of e against the contract and runs its command on h. It returns the encoded result, nil when the command returns none. " +
		"A command the contract does not define returns a *CommandError wrapping ErrUnknownCommand, parameters that do not match return a *CommandError naming the JSON pointer of the problem, and errors from h are returned as they are."))
	f.Func().Id("Dispatch").Params(
		jen.Id("ctx").Qual("context", "Context"),
		jen.Id("h").Id("Handler"),
		jen.Id("e").Op("*").Add(g.shared("Exec")),
	).Params(jen.Index().Byte(), jen.Error()).BlockFunc(func(grp *jen.Group) {
		grp.Switch(jen.Id("e").Dot("Command")).BlockFunc(func(sw *jen.Group) {
			for _, c := range p.Commands {
				body := []jen.Code{
					jen.Id("p").Op(":=").New(g.qual(c.Params)),
					jen.If(jen.Err().Op(":=").Add(g.wire("DecodeParams")).Call(jen.Id("e").Dot("Command"), jen.Id("e").Dot("Extra"), jen.Id("p")), jen.Err().Op("!=").Nil()).Block(
						jen.Return(jen.Nil(), jen.Err()),
					),
				}
				call := jen.Id("h").Dot(c.GoName()).Call(jen.Id("ctx"), jen.Id("p"))
				if c.Result == nil {
					body = append(body, jen.Return(jen.Nil(), call))
				} else {
					body = append(body,
						jen.List(jen.Id("r"), jen.Err()).Op(":=").Add(call),
						jen.If(jen.Err().Op("!=").Nil().Op("||").Id("r").Op("==").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
						jen.Return(jen.Id("r").Dot("AppendJSON").Call(jen.Nil()), jen.Nil()),
					)
				}
				sw.Case(jen.Id(commandConst(c))).Block(body...)
			}
		})
		grp.Return(jen.Nil(), g.wire("UnknownCommand").Call(jen.Id("e").Dot("Command")))
	})
	f.Line()

	f.Add(doc("Executor runs one command on an agent: it sends exec with the command's name and encoded parameters and returns the result of the agent's successful exec_result (nil when there is none), or an error with the agent's message when the command failed. A viewer connection implements it."))
	f.Type().Id("Executor").Op("=").Add(g.wire("Executor"))
	f.Line()
	f.Add(doc("AppendExec appends the payload of an exec event to b: id, command and the members of params, an encoded parameter object."))
	f.Func().Id("AppendExec").Params(jen.Id("b").Index().Byte(), jen.List(jen.Id("id"), jen.Id("command")).String(), jen.Id("params").Index().Byte()).Index().Byte().Block(
		jen.Return(g.wire("AppendExec").Call(jen.Id("b"), jen.Id("id"), jen.Id("command"), jen.Id("params"))),
	)
	f.Line()
	f.Add(doc("Caller runs commands on an agent through X and checks each result against the contract as it decodes it."))
	f.Type().Id("Caller").Struct(
		doc("X sends the commands and waits for their results."),
		jen.Id("X").Id("Executor"),
	)
	f.Line()
	for _, c := range p.Commands {
		run := jen.List(jen.Id("raw"), jen.Err()).Op(":=").Id("c").Dot("X").Dot("Exec").Call(jen.Id("ctx"), jen.Id(commandConst(c)), jen.Id("p").Dot("AppendJSON").Call(jen.Nil()))
		if c.Result == nil {
			f.Add(doc(fmt.Sprintf("%s runs %q.", c.GoName(), c.Name)))
			f.Func().Params(jen.Id("c").Id("Caller")).Id(c.GoName()).Add(g.commandSignature(c, true)).Block(
				jen.List(jen.Id("_"), jen.Err()).Op(":=").Id("c").Dot("X").Dot("Exec").Call(jen.Id("ctx"), jen.Id(commandConst(c)), jen.Id("p").Dot("AppendJSON").Call(jen.Nil())),
				jen.Return(jen.Err()),
			)
			f.Line()
			continue
		}
		body := []jen.Code{run, jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err()))}
		note := ""
		if c.Result.Nullable {
			note = " A missing or null result is nil."
			body = append(body, jen.If(g.wire("IsNull").Call(jen.Id("raw"))).Block(jen.Return(jen.Nil(), jen.Nil())))
		}
		body = append(body,
			jen.Id("r").Op(":=").New(g.qual(c.Result.Type)),
			jen.If(jen.Err().Op(":=").Add(g.wire("DecodeResult")).Call(jen.Id(commandConst(c)), jen.Id("raw"), jen.Id("r")), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Nil(), jen.Err()),
			),
			jen.Return(jen.Id("r"), jen.Nil()),
		)
		f.Add(doc(fmt.Sprintf("%s runs %q and returns its result.%s", c.GoName(), c.Name, note)))
		f.Func().Params(jen.Id("c").Id("Caller")).Id(c.GoName()).Add(g.commandSignature(c, true)).Block(body...)
		f.Line()
	}
	return f
}

// commandSignature is the parameter and result list of a command's Handler and Caller methods;
// named gives the parameters names.
func (g *goGen) commandSignature(c *Command, named bool) *jen.Statement {
	var params *jen.Statement
	if named {
		params = jen.Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("p").Op("*").Add(g.qual(c.Params)))
	} else {
		params = jen.Params(jen.Qual("context", "Context"), jen.Op("*").Add(g.qual(c.Params)))
	}
	if c.Result == nil {
		return params.Error()
	}
	return params.Params(jen.Op("*").Add(g.qual(c.Result.Type)), jen.Error())
}

// commands writes the TypeScript side of a package's commands: a map from each command's name
// to its parameters and result, and the request types derived from it.
func (g *tsGen) commands(p *Package) string {
	var b strings.Builder
	b.WriteString(tsDoc("", "The exec commands by name: each command's parameters (sent beside `id` and `command` in the `exec` payload) and the `result` of its successful `exec_result` (`undefined` when it returns nothing)."))
	b.WriteString("export interface ExecCommands {\n")
	for _, c := range p.Commands {
		result := "undefined"
		if c.Result != nil {
			result = g.ref(*c.Result)
		}
		b.WriteString(tsDoc("  ", c.Description))
		b.WriteString(fmt.Sprintf("  %s: { params: %s; result: %s };\n", tsKey(c.Name), g.named(c.Params), result))
	}
	b.WriteString("}\n\n")
	b.WriteString(tsDoc("", "The name of an exec command."))
	b.WriteString("export type ExecName = keyof ExecCommands;\n\n")
	b.WriteString(tsDoc("", "The names of the exec commands, in schema order."))
	names := make([]string, len(p.Commands))
	for i, c := range p.Commands {
		names[i] = fmt.Sprintf("%q", c.Name)
	}
	b.WriteString(fmt.Sprintf("export const execNames: readonly ExecName[] = [%s];\n\n", strings.Join(names, ", ")))
	b.WriteString(tsDoc("", "The command-specific part of an `exec` payload for command K: its name and its parameters."))
	b.WriteString("export type ExecRequestOf<K extends ExecName> = { readonly command: K } & Readonly<ExecCommands[K][\"params\"]>;\n\n")
	b.WriteString(tsDoc("", "Any exec command with its parameters; narrow on `command`."))
	b.WriteString("export type ExecRequest = { [K in ExecName]: ExecRequestOf<K> }[ExecName];\n\n")
	b.WriteString(tsDoc("", "The result of a successful command K."))
	b.WriteString("export type ExecResultOf<K extends ExecName> = ExecCommands[K][\"result\"];\n")
	return b.String()
}
