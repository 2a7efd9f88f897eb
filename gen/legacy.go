package gen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
)

// LegacyRole is one path of PizzaPi's raw-WebSocket protocol, read from the x-legacy annotation of
// a package file (schema/legacy.json): which namespace serves it, the frames each way and the
// close codes. A frame maps to the namespace event named by its type.
type LegacyRole struct {
	Name        string
	Description string
	Path        string
	Prefix      bool
	Namespace   *Namespace
	Pkg         *Package // the package that declares the roles
	Inbound     []LegacyInbound
	Outbound    []string
	Closes      []LegacyClose
}

// LegacyInbound is a frame type a legacy client sends and the legacy-only fields left out of it
// before its payload is checked against the namespace event.
type LegacyInbound struct {
	Type string
	Drop []string
}

// LegacyClose is a close rule: after frame After (whose field WhenField equals WhenValue, if
// set), the connection is closed with Code and a fixed reason or one taken from ReasonField.
type LegacyClose struct {
	After, WhenField, WhenValue string
	Immediate                   bool
	Code                        int
	Reason, ReasonField         string
}

// buildLegacy reads the x-legacy annotation of f and checks it against the namespaces: every
// frame must be an event of the namespace in its direction, a dropped field must not be one the
// event defines, and close rules must follow frames the relay sends.
func (b *builder) buildLegacy(c *Contract, f *schemaFile) error {
	root := f.root.get("x-legacy")
	if root == nil {
		return nil
	}
	if f.pkg == nil || f.ns != nil {
		return fmt.Errorf("%s: x-legacy belongs in a package file (x-package)", f.name)
	}
	if root.kind != nodeObject {
		return fmt.Errorf("%s: x-legacy must be an object of roles", f.name)
	}
	byPath := map[string]*Namespace{}
	for _, ns := range c.Namespaces {
		byPath[ns.Path] = ns
	}
	for _, m := range root.members {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s: x-legacy role %q: %s", f.name, m.key, fmt.Sprintf(format, args...))
		}
		n := m.value
		for _, k := range n.members {
			switch k.key {
			case "description", "path", "prefix", "namespace", "clientToServer", "serverToClient", "closes":
			default:
				return fail("unsupported key %q", k.key)
			}
		}
		r := &LegacyRole{Name: m.key, Description: n.getString("description"), Path: n.getString("path"), Pkg: f.pkg}
		if !isIdentifier(goName(r.Name)) {
			return fail("the role name must make a Go identifier")
		}
		if r.Description == "" {
			return fail("needs a description")
		}
		if !strings.HasPrefix(r.Path, "/ws/") {
			return fail("path %q must start with /ws/", r.Path)
		}
		if p := n.get("prefix"); p != nil {
			r.Prefix = p.kind == nodeBool && p.boolean
		}
		if r.Prefix != strings.HasSuffix(r.Path, "/") {
			return fail("a prefix path ends in / and only a prefix path does")
		}
		r.Namespace = byPath[n.getString("namespace")]
		if r.Namespace == nil {
			return fail("namespace %q is not declared by any namespace file", n.getString("namespace"))
		}
		events := func(d Direction) map[string]*Event {
			out := map[string]*Event{}
			for _, ev := range r.Namespace.Groups[d].Events {
				out[ev.Name] = ev
			}
			return out
		}
		in, out := events(ClientToServer), events(ServerToClient)
		cs := n.get("clientToServer")
		if cs == nil || cs.kind != nodeObject {
			return fail("clientToServer must be an object of frame types")
		}
		for _, fm := range cs.members {
			ev := in[fm.key]
			if ev == nil {
				return fail("frame %q is not a client-to-server event of %s", fm.key, r.Namespace.Path)
			}
			li := LegacyInbound{Type: fm.key, Drop: []string{}}
			if fm.value.kind != nodeArray {
				return fail("frame %q: the fields to drop must be an array", fm.key)
			}
			for _, d := range fm.value.items {
				if d.kind != nodeString || d.str == "" {
					return fail("frame %q: a field to drop must be a non-empty string", fm.key)
				}
				if !strings.Contains(d.str, "/") && hasField(ev.Payload, d.str) {
					return fail("frame %q: %q is a field of the event; it cannot be dropped", fm.key, d.str)
				}
				li.Drop = append(li.Drop, d.str)
			}
			r.Inbound = append(r.Inbound, li)
		}
		sent := map[string]bool{}
		if sc := n.get("serverToClient"); sc != nil {
			if sc.kind != nodeArray {
				return fail("serverToClient must be an array of frame types")
			}
			for _, t := range sc.items {
				if t.kind != nodeString || out[t.str] == nil {
					return fail("frame %q is not a server-to-client event of %s", t.str, r.Namespace.Path)
				}
				r.Outbound = append(r.Outbound, t.str)
				sent[t.str] = true
			}
		}
		if cl := n.get("closes"); cl != nil {
			if cl.kind != nodeArray {
				return fail("closes must be an array")
			}
			for i, rule := range cl.items {
				lc, err := legacyClose(rule)
				if err != nil {
					return fail("close rule %d: %v", i+1, err)
				}
				if !sent[lc.After] {
					return fail("close rule %d follows %q, which the role does not send", i+1, lc.After)
				}
				if err := checkWhen(lc, out[lc.After]); err != nil {
					return fail("close rule %d: %v", i+1, err)
				}
				r.Closes = append(r.Closes, lc)
			}
		}
		c.Legacy = append(c.Legacy, r)
	}
	return nil
}

// legacyClose reads one close rule.
func legacyClose(n *node) (LegacyClose, error) {
	var lc LegacyClose
	if n.kind != nodeObject {
		return lc, fmt.Errorf("must be an object")
	}
	for _, m := range n.members {
		switch m.key {
		case "after":
			lc.After = m.value.str
		case "whenField":
			lc.WhenField = m.value.str
		case "whenValue":
			lc.WhenValue = m.value.str
		case "immediate":
			lc.Immediate = m.value.kind == nodeBool && m.value.boolean
		case "code":
			code, err := strconv.Atoi(m.value.num.String())
			if err != nil || code < 1000 || code > 4999 {
				return lc, fmt.Errorf("code must be a WebSocket close code (1000-4999)")
			}
			lc.Code = code
		case "reason":
			lc.Reason = m.value.str
		case "reasonField":
			lc.ReasonField = m.value.str
		default:
			return lc, fmt.Errorf("unsupported key %q", m.key)
		}
	}
	if lc.After == "" || lc.Code == 0 {
		return lc, fmt.Errorf("after and code are required")
	}
	if (lc.WhenField == "") != (lc.WhenValue == "") {
		return lc, fmt.Errorf("whenField and whenValue go together")
	}
	return lc, nil
}

// checkWhen checks a close rule's condition against the payload of the event it follows: the
// field must be an enumeration (a code for programs, never a message for people) and the value one
// of its members.
func checkWhen(lc LegacyClose, ev *Event) error {
	if lc.WhenField == "" {
		return nil
	}
	for _, f := range ev.Payload.Fields {
		if f.Name != lc.WhenField {
			continue
		}
		if !f.Ref.Type.IsEnum() {
			return fmt.Errorf("whenField %q of %q is not an enumeration; a close must not depend on text for people", lc.WhenField, lc.After)
		}
		if !slices.Contains(f.Ref.Type.Enum, lc.WhenValue) {
			return fmt.Errorf("whenValue %q is not a value of %q", lc.WhenValue, lc.WhenField)
		}
		return nil
	}
	return fmt.Errorf("whenField %q is not a field of %q", lc.WhenField, lc.After)
}

// hasField reports whether an object type declares a property.
func hasField(t *Type, name string) bool {
	for _, f := range t.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// legacyFile writes the roles of the legacy protocol as values of wire.LegacyRole, which decodes
// frames and picks close codes.
func (g *goGen) legacyFile(roles []*LegacyRole) *jen.File {
	f := g.newFile(roles[0].Pkg)
	f.Add(doc("Role is one upgrade path of the legacy protocol: its namespace, frames and close codes."))
	f.Type().Id("Role").Op("=").Add(g.wire("LegacyRole"))
	f.Line()
	f.Add(doc("Close is a rule choosing the close code of a legacy connection after a frame."))
	f.Type().Id("Close").Op("=").Add(g.wire("LegacyClose"))
	f.Line()
	f.Add(doc("FrameError is a frame that cannot be read: not JSON (InvalidJSON is set), not an object, or of an unknown type."))
	f.Type().Id("FrameError").Op("=").Add(g.wire("LegacyFrameError"))
	f.Line()
	f.Add(doc("AppendFrame appends the frame of a namespace event: its payload's fields, then \"type\"."))
	f.Var().Id("AppendFrame").Op("=").Add(g.wire("AppendLegacyFrame"))
	f.Line()
	var names []jen.Code
	for _, r := range roles {
		names = append(names, jen.Id(goName(r.Name)))
		inbound := jen.Dict{}
		for _, in := range r.Inbound {
			var drop []jen.Code
			for _, d := range in.Drop {
				drop = append(drop, jen.Lit(d))
			}
			inbound[jen.Lit(in.Type)] = jen.Values(drop...)
		}
		var outbound []jen.Code
		for _, o := range r.Outbound {
			outbound = append(outbound, jen.Lit(o))
		}
		var closes []jen.Code
		for _, c := range r.Closes {
			d := jen.Dict{jen.Id("After"): jen.Lit(c.After), jen.Id("Code"): jen.Lit(c.Code)}
			if c.WhenField != "" {
				d[jen.Id("WhenField")] = jen.Lit(c.WhenField)
				d[jen.Id("WhenValue")] = jen.Lit(c.WhenValue)
			}
			if c.Immediate {
				d[jen.Id("Immediate")] = jen.True()
			}
			if c.Reason != "" {
				d[jen.Id("Reason")] = jen.Lit(c.Reason)
			}
			if c.ReasonField != "" {
				d[jen.Id("ReasonField")] = jen.Lit(c.ReasonField)
			}
			closes = append(closes, jen.Values(d))
		}
		fields := jen.Dict{
			jen.Id("Name"):      jen.Lit(r.Name),
			jen.Id("Path"):      jen.Lit(r.Path),
			jen.Id("Namespace"): jen.Lit(r.Namespace.Path),
			jen.Id("Inbound"):   jen.Map(jen.String()).Index().String().Values(inbound),
			jen.Id("Outbound"):  jen.Index().String().Values(outbound...),
		}
		if r.Prefix {
			fields[jen.Id("Prefix")] = jen.True()
		}
		if len(closes) > 0 {
			fields[jen.Id("Closes")] = jen.Index().Id("Close").Values(closes...)
		}
		f.Add(doc(fmt.Sprintf("%s is the legacy path %s, served by the %s namespace.", goName(r.Name), r.Path, r.Namespace.Path), r.Description))
		f.Var().Id(goName(r.Name)).Op("=").Op("&").Id("Role").Values(fields)
		f.Line()
	}
	f.Add(doc("Roles are all legacy paths, in the order of the schema."))
	f.Var().Id("Roles").Op("=").Index().Op("*").Id("Role").Values(names...)
	return f
}
