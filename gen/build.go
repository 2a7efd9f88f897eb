package gen

import (
	"encoding/json"
	"fmt"
	"strings"
)

// keywords are the JSON Schema keywords the generator understands; any other is an error so that
// a typo cannot silently weaken validation.
var keywords = map[string]bool{
	"$schema": true, "$id": true, "$ref": true, "$defs": true, "$comment": true,
	"title": true, "description": true, "examples": true, "default": true, "deprecated": true,
	"format": true, "type": true, "enum": true, "const": true,
	"properties": true, "required": true, "additionalProperties": true,
	"items": true, "minItems": true, "maxItems": true,
	"minLength": true, "maxLength": true, "pattern": true, "minimum": true, "maximum": true,
	"anyOf": true, "allOf": true, "x-namespace": true, "x-package": true, "x-enum-descriptions": true,
	"x-credential": true,
}

// annotations may stand beside $ref and anyOf; they do not change what validates.
var annotations = map[string]bool{
	"$comment": true, "$defs": true, "title": true, "description": true, "examples": true,
	"deprecated": true, "default": true,
}

// reservedEvents are Socket.IO's own event names, which an application event must not use.
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}

type loc struct {
	f   *schemaFile
	ptr string
}

func (l loc) child(toks ...string) loc {
	p := l.ptr
	for _, t := range toks {
		p += "/" + escapePointer(t)
	}
	return loc{l.f, p}
}

func (l loc) key() string { return l.f.name + "#" + l.ptr }

// builder turns parsed schema files into the Contract model.
type builder struct {
	files   []*schemaFile
	byID    map[string]*schemaFile
	comp    *compiler
	built   map[string]Ref
	context string // the event being built, for error messages
}

func newBuilder(files []*schemaFile, comp *compiler) *builder {
	b := &builder{files: files, byID: map[string]*schemaFile{}, comp: comp, built: map[string]Ref{}}
	for _, f := range files {
		b.byID[f.id] = f
	}
	return b
}

// errorf formats an error naming the file, the event being built (if any) and the location.
func (b *builder) errorf(l loc, format string, args ...any) error {
	var sb strings.Builder
	sb.WriteString(l.f.name)
	if b.context != "" {
		sb.WriteString(": " + b.context)
	}
	if l.ptr != "" {
		sb.WriteString(": " + l.ptr)
	}
	sb.WriteString(": ")
	fmt.Fprintf(&sb, format, args...)
	return fmt.Errorf("%s", sb.String())
}

func (b *builder) build() (*Contract, error) {
	c := &Contract{}
	// The shared file first, so its types are declared before namespaces use them.
	var shared, packages, namespaces []*schemaFile
	for _, f := range b.files {
		switch {
		case f.root.get("x-namespace") != nil && f.root.get("x-package") != nil:
			return nil, fmt.Errorf("%s: a file has either x-namespace or x-package", f.name)
		case f.root.get("x-namespace") != nil:
			namespaces = append(namespaces, f)
		case f.root.get("x-package") != nil:
			packages = append(packages, f)
		default:
			shared = append(shared, f)
		}
	}
	if len(shared) > 1 {
		return nil, fmt.Errorf("%s, %s: only one schema file may be without x-namespace", shared[0].name, shared[1].name)
	}
	for _, f := range shared {
		f.pkg = &Package{Name: sharedPackage, File: f.name, Title: f.root.getString("title"), Description: f.root.getString("description")}
		c.Shared = f.pkg
	}
	if c.Shared == nil {
		c.Shared = &Package{Name: sharedPackage}
	}
	for _, f := range packages {
		name := f.root.getString("x-package")
		if !isIdentifier(goName(name)) || strings.ToLower(name) != name || name == sharedPackage {
			return nil, fmt.Errorf("%s: x-package %q must be a lower-case Go package name", f.name, name)
		}
		f.pkg = &Package{Name: name, File: f.name, Title: f.root.getString("title"), Description: f.root.getString("description")}
		c.Packages = append(c.Packages, f.pkg)
	}
	seenNS := map[string]string{}
	for _, f := range namespaces {
		path := f.root.getString("x-namespace")
		if !strings.HasPrefix(path, "/") || len(path) < 2 {
			return nil, fmt.Errorf("%s: x-namespace %q must start with / and name the namespace", f.name, path)
		}
		if other, dup := seenNS[path]; dup {
			return nil, fmt.Errorf("%s: namespace %s is also declared by %s", f.name, path, other)
		}
		seenNS[path] = f.name
		name := strings.TrimSuffix(f.name, ".json")
		if !isIdentifier(goName(name)) || strings.ToLower(name) != name || name == sharedPackage {
			return nil, fmt.Errorf("%s: the file name must be a lower-case Go package name", f.name)
		}
		f.ns = &Namespace{Path: path}
		f.pkg = &Package{Name: name, File: f.name, Title: f.root.getString("title"), Description: f.root.getString("description")}
		f.ns.Package = f.pkg
		c.Namespaces = append(c.Namespaces, f.ns)
	}
	taken := map[string]string{}
	for _, f := range append(packages, namespaces...) {
		if other, dup := taken[f.pkg.Name]; dup {
			return nil, fmt.Errorf("%s: package name %s is also used by %s", f.name, f.pkg.Name, other)
		}
		taken[f.pkg.Name] = f.name
	}
	for _, f := range append(append(shared, packages...), namespaces...) {
		if err := b.buildFile(f); err != nil {
			return nil, err
		}
	}
	for _, f := range packages {
		if err := b.buildLegacy(c, f); err != nil {
			return nil, err
		}
	}
	if err := checkCredentials(c); err != nil {
		return nil, err
	}
	return c, nil
}

func (b *builder) buildFile(f *schemaFile) error {
	root := loc{f: f}
	for _, m := range f.root.members {
		switch m.key {
		case "$schema", "$id", "$comment", "title", "description", "$defs":
		case "x-legacy": // the legacy protocol's roles, read by buildLegacy
		case "x-namespace", "x-package":
			if v := f.root.get(m.key); v.kind != nodeString {
				return b.errorf(root, "%s must be a string", m.key)
			}
		default:
			return b.errorf(root, "unsupported top-level keyword %q", m.key)
		}
	}
	if f.root.getString("description") == "" {
		return b.errorf(root, "the file needs a description")
	}
	defs := f.root.get("$defs")
	if defs == nil {
		return nil
	}
	for _, m := range defs.members {
		l := root.child("$defs", m.key)
		switch {
		case f.ns != nil && (m.key == "clientToServer" || m.key == "serverToClient" || m.key == "interServer"):
			if err := b.buildGroup(f.ns, l, m.key, m.value); err != nil {
				return err
			}
		case f.ns == nil && f.root.get("x-package") != nil && m.key == commandsGroup:
			if err := b.buildCommands(f.pkg, l, m.value); err != nil {
				return err
			}
		default:
			r, err := b.ref(l, m.value, "")
			if err != nil {
				return err
			}
			if f.ns != nil && (m.key == "Auth" || m.key == "SocketData") {
				if r.Type.Kind != KindObject || r.Nullable {
					return b.errorf(l, "%s must be an object", m.key)
				}
				if m.key == "Auth" {
					f.ns.Auth = r.Type
					for _, field := range r.Type.Fields {
						if field.Credential {
							f.ns.Credential = field
						}
					}
				} else {
					f.ns.SocketData = r.Type
				}
			}
		}
	}
	if f.ns != nil && (f.ns.Auth == nil || f.ns.SocketData == nil) {
		return b.errorf(root, "a namespace file must define $defs/Auth and $defs/SocketData")
	}
	return nil
}

func (b *builder) buildGroup(ns *Namespace, l loc, key string, n *node) error {
	var dir Direction
	for d := Direction(0); d < numDirections; d++ {
		if d.key() == key {
			dir = d
		}
	}
	for _, m := range n.members {
		if m.key != "description" && m.key != "$defs" && m.key != "$comment" {
			return b.errorf(l, "unsupported keyword %q in an event group (only description and $defs)", m.key)
		}
	}
	g := &ns.Groups[dir]
	g.Description = n.getString("description")
	if g.Description == "" {
		return b.errorf(l, "the %s group needs a description", key)
	}
	events := n.get("$defs")
	if events == nil {
		return nil
	}
	for _, m := range events.members {
		ev, err := b.buildEvent(l.child("$defs", m.key), dir, m.key, m.value)
		if err != nil {
			return err
		}
		g.Events = append(g.Events, ev)
	}
	return nil
}

func (b *builder) buildEvent(l loc, dir Direction, name string, n *node) (*Event, error) {
	b.context = fmt.Sprintf("event %q (%s)", name, dir.key())
	defer func() { b.context = "" }()
	if name == "" || reservedEvents[name] {
		return nil, b.errorf(l, "%q is not an event name an application may use", name)
	}
	ev := &Event{Name: name, Direction: dir, Description: n.getString("description")}
	if ev.Description == "" {
		return nil, b.errorf(l, "the event needs a description")
	}
	if d := n.get("deprecated"); d != nil && d.boolean {
		ev.Deprecated = true
	}
	r, err := b.ref(l, n, "")
	if err != nil {
		return nil, err
	}
	if r.Type.Kind != KindObject || r.Nullable {
		return nil, b.errorf(l, "the payload must be an object")
	}
	ev.Payload = r.Type
	if defs := n.get("$defs"); defs != nil {
		for _, m := range defs.members {
			if m.key != "ack" {
				return nil, b.errorf(l, "unsupported $defs entry %q in an event (only ack)", m.key)
			}
			ar, err := b.ref(l.child("$defs", "ack"), m.value, "")
			if err != nil {
				return nil, err
			}
			if ar.Type.Kind != KindObject || ar.Nullable {
				return nil, b.errorf(l.child("$defs", "ack"), "the ack must be an object")
			}
			ev.Ack = ar.Type
		}
	}
	ev.Examples, err = b.examples(l, n)
	if err != nil {
		return nil, err
	}
	if len(ev.Examples) == 0 {
		return nil, b.errorf(l, "the event needs at least one example")
	}
	return ev, nil
}

// examples returns the examples of the schema at l, after checking each against it.
func (b *builder) examples(l loc, n *node) ([]json.RawMessage, error) {
	ex := n.get("examples")
	if ex == nil {
		return nil, nil
	}
	if ex.kind != nodeArray {
		return nil, b.errorf(l, "examples must be an array")
	}
	var out []json.RawMessage
	for i, e := range ex.items {
		raw := e.marshal()
		if err := b.comp.validate(l.f, l.ptr, raw); err != nil {
			return nil, b.errorf(l, "example %d does not match the schema: %v", i+1, err)
		}
		out = append(out, raw)
	}
	return out, nil
}

// ref builds the type of the schema n found at l. hint names an inline object or enum that has no
// title.
func (b *builder) ref(l loc, n *node, hint string) (Ref, error) {
	if n.kind == nodeBool {
		return Ref{}, b.errorf(l, "boolean schemas are not supported; write {} for any value")
	}
	if n.kind != nodeObject {
		return Ref{}, b.errorf(l, "a schema must be an object")
	}
	for _, m := range n.members {
		if !keywords[m.key] || m.key == "x-namespace" || m.key == "x-package" {
			return Ref{}, b.errorf(l, "unsupported keyword %q", m.key)
		}
	}
	if r, ok := b.built[l.key()]; ok {
		return r, nil
	}
	if target := n.get("$ref"); target != nil {
		for _, m := range n.members {
			if m.key != "$ref" && !annotations[m.key] {
				return Ref{}, b.errorf(l, "keyword %q beside $ref is not supported; put it in the referenced schema", m.key)
			}
		}
		tf, tp, err := resolveRef(b.byID, l.f, target.str)
		if err != nil {
			return Ref{}, b.errorf(l, "%v", err)
		}
		tn := lookup(tf.root, tp)
		if tn == nil {
			return Ref{}, b.errorf(l, "$ref %q points at nothing", target.str)
		}
		if _, err := b.comp.compile(tf, tp); err != nil {
			return Ref{}, b.errorf(l, "$ref %q: %v", target.str, err)
		}
		saved := b.context
		b.context = ""
		r, err := b.ref(loc{tf, tp}, tn, "")
		b.context = saved
		return r, err
	}
	if alts := n.get("anyOf"); alts != nil {
		return b.nullableRef(l, n, alts, hint)
	}
	if n.get("allOf") != nil {
		return b.discriminated(l, n, hint)
	}

	typ, nullable, err := b.typeOf(l, n)
	if err != nil {
		return Ref{}, err
	}
	t := &Type{Description: n.getString("description"), Deprecated: n.get("deprecated") != nil && n.get("deprecated").boolean}
	r := Ref{Type: t, Nullable: nullable}
	switch typ {
	case "":
		t.Kind = KindRaw
		for _, m := range n.members {
			if !annotations[m.key] && m.key != "format" {
				return Ref{}, b.errorf(l, "keyword %q needs a \"type\"", m.key)
			}
		}
	case "string":
		t.Kind = KindString
		if err := b.stringConstraints(l, n, t); err != nil {
			return Ref{}, err
		}
		if t.IsEnum() {
			if err := b.declare(l, n, t, hint); err != nil {
				return Ref{}, err
			}
		}
	case "integer", "number":
		t.Kind = KindNumber
		if typ == "integer" {
			t.Kind = KindInteger
		}
		for _, k := range []string{"minimum", "maximum"} {
			if v := n.get(k); v != nil {
				if v.kind != nodeNumber {
					return Ref{}, b.errorf(l, "%s must be a number", k)
				}
				num := v.num
				if k == "minimum" {
					t.Minimum = &num
				} else {
					t.Maximum = &num
				}
			}
		}
	case "boolean":
		t.Kind = KindBoolean
	case "array":
		t.Kind = KindArray
		var err error
		if t.MinItems, err = intKeyword(n, "minItems"); err != nil {
			return Ref{}, b.errorf(l, "%v", err)
		}
		if t.MaxItems, err = intKeyword(n, "maxItems"); err != nil {
			return Ref{}, b.errorf(l, "%v", err)
		}
		items := n.get("items")
		if items == nil {
			items = &node{kind: nodeObject}
		}
		ir, err := b.ref(l.child("items"), items, hint+"Item")
		if err != nil {
			return Ref{}, err
		}
		t.Items = &ir
	case "object":
		t.Kind = KindObject
		if err := b.declare(l, n, t, hint); err != nil {
			return Ref{}, err
		}
		b.built[l.key()] = r // before the fields, so that a type may refer to itself
		if err := b.objectFields(l, n, t); err != nil {
			return Ref{}, err
		}
	}
	if err := b.checkKeywordsFor(l, n, typ); err != nil {
		return Ref{}, err
	}
	if t.Named() {
		if t.Examples, err = b.examples(l, n); err != nil {
			return Ref{}, err
		}
	}
	b.built[l.key()] = r
	return r, nil
}

// typeKeywords lists the validation keywords that apply to each type.
var typeKeywords = map[string][]string{
	"string":  {"enum", "x-enum-descriptions", "const", "minLength", "maxLength", "pattern", "format", "x-credential"},
	"integer": {"minimum", "maximum"},
	"number":  {"minimum", "maximum"},
	"boolean": {},
	"array":   {"items", "minItems", "maxItems"},
	"object":  {"properties", "required", "additionalProperties"},
	"":        {"format"},
}

func (b *builder) checkKeywordsFor(l loc, n *node, typ string) error {
	allowed := map[string]bool{"type": true, "$schema": true, "$id": true}
	for _, k := range typeKeywords[typ] {
		allowed[k] = true
	}
	for _, m := range n.members {
		if !allowed[m.key] && !annotations[m.key] {
			return b.errorf(l, "keyword %q does not apply to type %q", m.key, typ)
		}
	}
	return nil
}

// typeOf returns the JSON type of n ("" for any value) and whether null is allowed too.
func (b *builder) typeOf(l loc, n *node) (string, bool, error) {
	tn := n.get("type")
	if tn == nil {
		if c := n.get("const"); c != nil {
			if c.kind != nodeString {
				return "", false, b.errorf(l, "only string constants are supported")
			}
			return "string", false, nil
		}
		if n.get("enum") != nil {
			return "string", false, nil
		}
		return "", false, nil
	}
	valid := map[string]bool{"string": true, "integer": true, "number": true, "boolean": true, "array": true, "object": true}
	switch tn.kind {
	case nodeString:
		if !valid[tn.str] {
			return "", false, b.errorf(l, "unsupported type %q", tn.str)
		}
		return tn.str, false, nil
	case nodeArray:
		if len(tn.items) == 2 && tn.items[0].kind == nodeString && tn.items[1].kind == nodeString {
			a, c := tn.items[0].str, tn.items[1].str
			if c == "null" && valid[a] {
				return a, true, nil
			}
			if a == "null" && valid[c] {
				return c, true, nil
			}
		}
	}
	return "", false, b.errorf(l, "type must be one JSON type, or one type and \"null\"")
}

func (b *builder) nullableRef(l loc, n *node, alts *node, hint string) (Ref, error) {
	for _, m := range n.members {
		if m.key != "anyOf" && !annotations[m.key] {
			return Ref{}, b.errorf(l, "keyword %q beside anyOf is not supported", m.key)
		}
	}
	if alts.kind != nodeArray || len(alts.items) != 2 {
		return Ref{}, b.errorf(l, `anyOf is only supported as [schema, {"type": "null"}]`)
	}
	null := alts.items[1]
	if null.kind != nodeObject || len(null.members) != 1 || null.getString("type") != "null" {
		return Ref{}, b.errorf(l, `anyOf is only supported as [schema, {"type": "null"}]`)
	}
	r, err := b.ref(l.child("anyOf", "0"), alts.items[0], hint)
	if err != nil {
		return Ref{}, err
	}
	if r.Type.Kind == KindRaw {
		return Ref{}, b.errorf(l, "an open value already allows null")
	}
	r.Nullable = true
	return r, nil
}

func (b *builder) stringConstraints(l loc, n *node, t *Type) error {
	var err error
	if t.MinLength, err = intKeyword(n, "minLength"); err != nil {
		return b.errorf(l, "%v", err)
	}
	if t.MaxLength, err = intKeyword(n, "maxLength"); err != nil {
		return b.errorf(l, "%v", err)
	}
	t.Pattern = n.getString("pattern")
	t.Format = n.getString("format")
	if c := n.get("const"); c != nil {
		if c.kind != nodeString {
			return b.errorf(l, "only string constants are supported")
		}
		s := c.str
		t.Const = &s
	}
	if e := n.get("enum"); e != nil {
		if e.kind != nodeArray || len(e.items) == 0 {
			return b.errorf(l, "enum must be a non-empty array")
		}
		seen := map[string]bool{}
		for _, it := range e.items {
			if it.kind != nodeString {
				return b.errorf(l, "only string enums are supported")
			}
			if seen[it.str] {
				return b.errorf(l, "enum value %q is listed twice", it.str)
			}
			seen[it.str] = true
			t.Enum = append(t.Enum, it.str)
		}
	}
	return b.enumDescriptions(l, n, t)
}

func intKeyword(n *node, key string) (*int, error) {
	v := n.get(key)
	if v == nil {
		return nil, nil
	}
	i, err := v.num.Int64()
	if v.kind != nodeNumber || err != nil || i < 0 {
		return nil, fmt.Errorf("%s must be a non-negative integer", key)
	}
	x := int(i)
	return &x, nil
}

// declare names a named type and adds it to the package of the file it is written in.
func (b *builder) declare(l loc, n *node, t *Type, hint string) error {
	name, err := b.nameAt(l, n, hint)
	if err != nil {
		return err
	}
	if t.Description == "" {
		return b.errorf(l, "type %s needs a description", name)
	}
	t.Name = name
	t.Pkg = l.f.pkg
	for _, other := range t.Pkg.Types {
		if other.Name == name {
			return b.errorf(l, "type name %s is used twice in %s; give one of them a title", name, l.f.name)
		}
	}
	t.Pkg.Types = append(t.Pkg.Types, t)
	return nil
}

// nameAt returns the type name for the schema at l: its title, else a name derived from where
// it is declared, else hint.
func (b *builder) nameAt(l loc, n *node, hint string) (string, error) {
	name := n.getString("title")
	if name == "" {
		toks := strings.Split(strings.TrimPrefix(l.ptr, "/"), "/")
		isGroup := func(s string) bool { return s == "clientToServer" || s == "serverToClient" || s == "interServer" }
		switch {
		case len(toks) == 2 && toks[0] == "$defs":
			name = toks[1]
		case len(toks) == 4 && toks[0] == "$defs" && isGroup(toks[1]) && toks[2] == "$defs":
			name = goName(toks[3])
		case len(toks) == 6 && toks[0] == "$defs" && isGroup(toks[1]) && toks[4] == "$defs" && toks[5] == "ack":
			name = goName(toks[3]) + "Ack"
		default:
			name = hint
		}
	}
	if !isIdentifier(name) {
		return "", b.errorf(l, "cannot use %q as a type name; give the schema a PascalCase title", name)
	}
	return name, nil
}

func (b *builder) objectFields(l loc, n *node, t *Type) error {
	props := n.get("properties")
	if props != nil && props.kind != nodeObject {
		return b.errorf(l, "properties must be an object")
	}
	required := map[string]bool{}
	if req := n.get("required"); req != nil {
		if req.kind != nodeArray {
			return b.errorf(l, "required must be an array")
		}
		for _, r := range req.items {
			if r.kind != nodeString || props.get(r.str) == nil {
				return b.errorf(l, "required property %s is not declared in properties", string(r.marshal()))
			}
			required[r.str] = true
		}
	}
	t.Open = true
	if ap := n.get("additionalProperties"); ap != nil {
		switch {
		case ap.kind == nodeBool:
			t.Open = ap.boolean
		case ap.kind == nodeObject && len(ap.members) == 0:
		default:
			return b.errorf(l, "additionalProperties must be true or false")
		}
	}
	goNames := map[string]string{}
	if props == nil {
		return nil
	}
	for _, m := range props.members {
		pl := l.child("properties", m.key)
		desc := m.value.getString("description")
		if desc == "" {
			return b.errorf(pl, "property %q needs a description", m.key)
		}
		r, err := b.ref(pl, m.value, t.Name+goName(m.key))
		if err != nil {
			return err
		}
		f := &Field{Name: m.key, GoName: goName(m.key), Description: desc, Required: required[m.key], Ref: r}
		if d := m.value.get("deprecated"); d != nil && d.boolean {
			f.Deprecated = true
		}
		if c := m.value.get("x-credential"); c != nil {
			if c.kind != nodeBool || !c.boolean {
				return b.errorf(pl, "x-credential must be true")
			}
			if r.Type.Kind != KindString || r.Type.IsEnum() || r.Type.Const != nil || r.Nullable {
				return b.errorf(pl, "x-credential needs a string property")
			}
			for _, other := range t.Fields {
				if other.Credential {
					return b.errorf(pl, "x-credential marks %q already; an object has at most one credential", other.Name)
				}
			}
			f.Credential = true
		}
		if other, dup := goNames[f.GoName]; dup {
			return b.errorf(pl, "properties %q and %q have the same Go name %s", other, m.key, f.GoName)
		}
		if f.GoName == "Extra" && t.Open {
			return b.errorf(pl, "an open object cannot have a property named %q (Extra holds the unknown ones)", m.key)
		}
		goNames[f.GoName] = m.key
		t.Fields = append(t.Fields, f)
	}
	return nil
}

// discriminated builds an open object whose discriminator property selects a sub-schema, written
// as allOf of if/then pairs.
func (b *builder) discriminated(l loc, n *node, hint string) (Ref, error) {
	if n.getString("type") != "object" {
		return Ref{}, b.errorf(l, "allOf is only supported on objects")
	}
	t := &Type{Kind: KindDiscriminated, Description: n.getString("description")}
	if err := b.declare(l, n, t, hint); err != nil {
		return Ref{}, err
	}
	r := Ref{Type: t}
	b.built[l.key()] = r
	if err := b.objectFields(l, n, t); err != nil {
		return Ref{}, err
	}
	if !t.Open {
		return Ref{}, b.errorf(l, "a discriminated object must allow additional properties")
	}
	for _, m := range n.members {
		if m.key != "allOf" && m.key != "type" && !annotations[m.key] && !(m.key == "properties" || m.key == "required" || m.key == "additionalProperties") {
			return Ref{}, b.errorf(l, "keyword %q is not supported beside allOf", m.key)
		}
	}
	allOf := n.get("allOf")
	if allOf.kind != nodeArray || len(allOf.items) == 0 {
		return Ref{}, b.errorf(l, "allOf must be a non-empty array")
	}
	seen := map[string]bool{}
	for i, it := range allOf.items {
		il := l.child("allOf", fmt.Sprint(i))
		bad := b.errorf(il, `allOf entries must be {"if": {"properties": {"<name>": {"const": "<value>"}}, "required": ["<name>"]}, "then": {"$ref": "..."}}`)
		cond, then := it.get("if"), it.get("then")
		if it.kind != nodeObject || len(it.members) != 2 || cond == nil || then == nil {
			return Ref{}, bad
		}
		props, req := cond.get("properties"), cond.get("required")
		if len(cond.members) != 2 || props == nil || len(props.members) != 1 || req == nil || len(req.items) != 1 {
			return Ref{}, bad
		}
		disc := props.members[0].key
		value := props.members[0].value.get("const")
		if req.items[0].str != disc || value == nil || value.kind != nodeString || len(props.members[0].value.members) != 1 {
			return Ref{}, bad
		}
		if t.Discriminator == "" {
			t.Discriminator = disc
		} else if t.Discriminator != disc {
			return Ref{}, b.errorf(il, "every allOf entry must test the same property (%q, not %q)", t.Discriminator, disc)
		}
		if seen[value.str] {
			return Ref{}, b.errorf(il, "discriminator value %q is listed twice", value.str)
		}
		seen[value.str] = true
		vr, err := b.ref(il.child("then"), then, "")
		if err != nil {
			return Ref{}, err
		}
		if vr.Type.Kind != KindObject || vr.Nullable {
			return Ref{}, b.errorf(il, "a variant must be an object type")
		}
		t.Variants = append(t.Variants, Variant{Value: value.str, Type: vr.Type})
	}
	var discField *Field
	for _, f := range t.Fields {
		if f.Name == t.Discriminator {
			discField = f
		}
	}
	if discField == nil || !discField.Required || discField.Ref.Type.Kind != KindString || discField.Ref.Nullable {
		return Ref{}, b.errorf(l, "the discriminator %q must be a required string property", t.Discriminator)
	}
	if len(t.Fields) != 1 {
		return Ref{}, b.errorf(l, "a discriminated object declares only its discriminator; put other properties in the variants")
	}
	var err error
	if t.Examples, err = b.examples(l, n); err != nil {
		return Ref{}, err
	}
	return r, nil
}

// checkCredentials makes sure that x-credential marks only properties of a namespace's Auth.
func checkCredentials(c *Contract) error {
	auths := map[*Type]bool{}
	for _, ns := range c.Namespaces {
		auths[ns.Auth] = true
	}
	pkgs := append([]*Package{c.Shared}, c.Packages...)
	for _, ns := range c.Namespaces {
		pkgs = append(pkgs, ns.Package)
	}
	for _, p := range pkgs {
		for _, t := range p.Types {
			for _, f := range t.Fields {
				if f.Credential && !auths[t] {
					return fmt.Errorf("%s: %s.%s: x-credential applies only to a property of a namespace's Auth", p.File, t.Name, f.Name)
				}
			}
		}
	}
	return nil
}
