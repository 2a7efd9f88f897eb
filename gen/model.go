package gen

import "encoding/json"

// Contract is the whole protocol: the shared types and the namespaces, read from schema/.
type Contract struct {
	Shared     *Package
	Packages   []*Package // types-only packages (files with x-package), e.g. the REST bodies
	Namespaces []*Namespace
	Legacy     []*LegacyRole // PizzaPi's raw-WebSocket paths (x-legacy), mapped onto the namespaces
}

// Package is the set of named types declared by one schema file; each becomes one Go package
// and one TypeScript module.
type Package struct {
	Name        string // Go package and TS module name: "protocol" for shared.json, else the file's base name
	File        string // schema file name, e.g. "relay.json"
	Title       string
	Description string
	Types       []*Type    // named types in declaration order
	Commands    []*Command // the exec commands the file declares (see commands.go), in order
}

// Namespace is one Socket.IO namespace and its events.
type Namespace struct {
	*Package
	Path       string // "/relay"
	Auth       *Type  // handshake auth object
	Credential *Field // the field of Auth that carries the secret (x-credential), or nil
	SocketData *Type  // per-socket data
	Groups     [numDirections]Group
}

// Direction says who sends an event.
type Direction int

// The three directions an event can travel.
const (
	ClientToServer Direction = iota
	ServerToClient
	InterServer
	numDirections
)

// key is the name of the direction's group in a namespace file.
func (d Direction) key() string {
	return [...]string{"clientToServer", "serverToClient", "interServer"}[d]
}

// Group is the events of one direction in a namespace.
type Group struct {
	Description string
	Events      []*Event
}

// Event is one Socket.IO event with its single JSON-object payload.
type Event struct {
	Name        string
	Direction   Direction
	Description string
	Payload     *Type // always an object type
	Ack         *Type // optional acknowledgement, an object type
	Examples    []json.RawMessage
	Deprecated  bool
}

// Kind is the shape of a Type.
type Kind int

// The kinds of types the generator understands.
const (
	KindString Kind = iota
	KindInteger
	KindNumber
	KindBoolean
	KindArray
	KindObject
	KindRaw           // any JSON value, passed through untouched
	KindDiscriminated // an open object whose "type" selects a sub-schema
)

// Type is a schema the generator can express in Go and TypeScript.
type Type struct {
	Kind        Kind
	Name        string   // set for named types: objects, enums and discriminated objects
	Pkg         *Package // package that declares a named type
	Description string
	Examples    []json.RawMessage
	Deprecated  bool

	// Strings.
	MinLength, MaxLength *int
	Pattern              string
	Enum                 []string
	EnumDocs             []string // one description per Enum value (x-enum-descriptions), or nil
	Const                *string
	Format               string

	// Integers and numbers (kept as written in the schema).
	Minimum, Maximum *json.Number

	// Arrays.
	Items              *Ref
	MinItems, MaxItems *int

	// Objects.
	Fields []*Field
	Open   bool // additional properties are allowed (and kept)

	// Discriminated objects.
	Discriminator string
	Variants      []Variant
}

// Ref is a use of a type: a field, an array element or an ack.
type Ref struct {
	Type     *Type
	Nullable bool
}

// Field is one property of an object type.
type Field struct {
	Name        string // JSON name
	GoName      string
	Description string
	Required    bool
	Ref         Ref
	Deprecated  bool
	// Credential marks the secret of a namespace's handshake auth (x-credential): the server
	// authenticates with it and never logs it; when it is optional, a session cookie may stand in.
	Credential bool
}

// Variant is one sub-schema of a discriminated object.
type Variant struct {
	Value string
	Type  *Type
}

// IsEnum reports whether t is a string enumeration (which gets a named type).
func (t *Type) IsEnum() bool { return t.Kind == KindString && len(t.Enum) > 0 }

// Named reports whether t is declared as its own Go and TypeScript type.
func (t *Type) Named() bool {
	return t.Kind == KindObject || t.Kind == KindDiscriminated || t.IsEnum()
}

// Events returns every event of the namespace in direction order.
func (ns *Namespace) Events() []*Event {
	var all []*Event
	for _, g := range ns.Groups {
		all = append(all, g.Events...)
	}
	return all
}
