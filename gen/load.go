package gen

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sharedPackage is the Go package (and TS module) of the file without a namespace.
const sharedPackage = "protocol"

// schemaFile is one file of the schema directory.
type schemaFile struct {
	name string // base name, e.g. "relay.json"
	id   string // its $id
	raw  []byte
	root *node
	pkg  *Package
	ns   *Namespace // nil for the shared file
}

// Load reads every *.json file of dir, checks each one with a JSON Schema validator (meta-schema,
// references, examples) and builds the contract model. Errors name the file and, where there is
// one, the event.
func Load(dir string) (*Contract, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no schema files", dir)
	}
	sort.Strings(paths)
	var files []*schemaFile
	for _, p := range paths {
		f, err := readSchemaFile(p)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	comp, err := newCompiler(files)
	if err != nil {
		return nil, err
	}
	b := newBuilder(files, comp)
	return b.build()
}

func readSchemaFile(p string) (*schemaFile, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(p)
	root, err := parseJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %w", name, err)
	}
	if root.kind != nodeObject {
		return nil, fmt.Errorf("%s: a schema file must be a JSON object", name)
	}
	id := root.getString("$id")
	if id == "" {
		return nil, fmt.Errorf("%s: missing $id", name)
	}
	if path.Base(id) != name {
		return nil, fmt.Errorf("%s: $id %q must end in the file name", name, id)
	}
	if s := root.getString("$schema"); s != "https://json-schema.org/draft/2020-12/schema" {
		return nil, fmt.Errorf("%s: $schema must be https://json-schema.org/draft/2020-12/schema", name)
	}
	return &schemaFile{name: name, id: id, raw: raw, root: root}, nil
}

// compiler wraps the reference JSON Schema implementation used to check the schema files and
// their examples.
type compiler struct {
	c *jsonschema.Compiler
}

func newCompiler(files []*schemaFile) (*compiler, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, f := range files {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(f.raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if err := c.AddResource(f.id, doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	for _, f := range files {
		if _, err := c.Compile(f.id); err != nil {
			msg := oneLine(err)
			where := ""
			if m := eventInPointer.FindStringSubmatch(msg); m != nil {
				where = fmt.Sprintf(" event %q (%s):", m[2], m[1])
			}
			return nil, fmt.Errorf("%s:%s not a valid JSON Schema: %s", f.name, where, msg)
		}
	}
	return &compiler{c: c}, nil
}

// compile compiles the schema at pointer inside file.
func (c *compiler) compile(f *schemaFile, pointer string) (*jsonschema.Schema, error) {
	s, err := c.c.Compile(f.id + "#" + pointer)
	if err != nil {
		return nil, fmt.Errorf("%s", oneLine(err))
	}
	return s, nil
}

// validate checks one example against the schema at pointer inside file.
func (c *compiler) validate(f *schemaFile, pointer string, example []byte) error {
	s, err := c.compile(f, pointer)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(example))
	if err != nil {
		return err
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("%s", oneLine(err))
	}
	return nil
}

// eventInPointer finds the event a validator message points into.
var eventInPointer = regexp.MustCompile(`/\$defs/(clientToServer|serverToClient|interServer)/\$defs/([^/']+)`)

// oneLine folds a multi-line validator message into one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// resolveRef turns a $ref written in file into the file and JSON pointer it names.
func resolveRef(files map[string]*schemaFile, from *schemaFile, ref string) (*schemaFile, string, error) {
	base, err := url.Parse(from.id)
	if err != nil {
		return nil, "", err
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, "", fmt.Errorf("bad $ref %q: %w", ref, err)
	}
	abs := base.ResolveReference(u)
	frag := abs.Fragment
	abs.Fragment = ""
	target := files[abs.String()]
	if target == nil {
		return nil, "", fmt.Errorf("$ref %q: no schema file with $id %s", ref, abs)
	}
	if frag != "" && !strings.HasPrefix(frag, "/") {
		return nil, "", fmt.Errorf("$ref %q: only JSON-pointer fragments are supported", ref)
	}
	return target, frag, nil
}

// lookup finds the node at a JSON pointer.
func lookup(root *node, pointer string) *node {
	if pointer == "" {
		return root
	}
	n := root
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		n = n.get(tok)
		if n == nil {
			return nil
		}
	}
	return n
}

// escapePointer escapes one JSON pointer token.
func escapePointer(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}
