package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// node is a parsed JSON value that remembers the order of object members, so that generated
// fields follow the order in which the schema lists them.
type node struct {
	kind    nodeKind
	members []member // objects
	items   []*node  // arrays
	str     string   // strings
	num     json.Number
	boolean bool
}

type nodeKind int

const (
	nodeNull nodeKind = iota
	nodeBool
	nodeNumber
	nodeString
	nodeArray
	nodeObject
)

type member struct {
	key   string
	value *node
}

// get returns the member named key of an object node, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != nodeObject {
		return nil
	}
	for _, m := range n.members {
		if m.key == key {
			return m.value
		}
	}
	return nil
}

// getString returns the string member key, or "".
func (n *node) getString(key string) string {
	if v := n.get(key); v != nil && v.kind == nodeString {
		return v.str
	}
	return ""
}

// parseJSON parses data keeping member order.
func parseJSON(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := parseValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return n, nil
}

func parseValue(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: nodeObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key := kt.(string)
				for _, m := range n.members {
					if m.key == key {
						return nil, fmt.Errorf("duplicate key %q", key)
					}
				}
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, member{key, v})
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n := &node{kind: nodeArray}
			for dec.More() {
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, v)
			}
			_, err := dec.Token()
			return n, err
		}
	case string:
		return &node{kind: nodeString, str: t}, nil
	case json.Number:
		return &node{kind: nodeNumber, num: t}, nil
	case bool:
		return &node{kind: nodeBool, boolean: t}, nil
	case nil:
		return &node{kind: nodeNull}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// marshal re-encodes a node compactly, keeping member order.
func (n *node) marshal() []byte {
	var b bytes.Buffer
	n.write(&b)
	return b.Bytes()
}

func (n *node) write(b *bytes.Buffer) {
	switch n.kind {
	case nodeNull:
		b.WriteString("null")
	case nodeBool:
		if n.boolean {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nodeNumber:
		b.WriteString(n.num.String())
	case nodeString:
		s, _ := json.Marshal(n.str)
		b.Write(s)
	case nodeArray:
		b.WriteByte('[')
		for i, it := range n.items {
			if i > 0 {
				b.WriteByte(',')
			}
			it.write(b)
		}
		b.WriteByte(']')
	case nodeObject:
		b.WriteByte('{')
		for i, m := range n.members {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(m.key)
			b.Write(k)
			b.WriteByte(':')
			m.value.write(b)
		}
		b.WriteByte('}')
	}
}
