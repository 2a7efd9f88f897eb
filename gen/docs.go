package gen

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// typeDoc returns the paragraphs that document a named type. A type that travels as an event
// payload or acknowledgement, or that is a variant of a discriminated type, is introduced by
// where it travels, followed by its description as written: such descriptions are often
// sentences about the event ("A terminal's shell exited."), which cannot follow "X is". Any
// other type's description is a noun phrase and becomes "X is a ...".
func typeDoc(c *Contract, t *Type, ns *Namespace) []string {
	if uses := typeUses(c, t, ns); uses != "" {
		return []string{uses, t.Description}
	}
	return []string{typeSentence(t.Name, t.Description)}
}

// typeSentence turns a noun-phrase description into "Name is a ...": the first word loses its
// capital unless it is an acronym or a code span ("URL", "`GET`").
func typeSentence(name, desc string) string {
	if desc == "" {
		return name + " is generated from the schema."
	}
	return name + " is " + lowerFirstWord(desc)
}

// lowerFirstWord lowers the capital of the first word of s when it is an ordinary word: "A" or
// "The" are lowered, "URL", "API" or "PTY" are kept.
func lowerFirstWord(s string) string {
	word, _, _ := strings.Cut(s, " ")
	r, size := utf8.DecodeRuneInString(word)
	if !unicode.IsUpper(r) {
		return s
	}
	for _, rest := range word[size:] {
		if unicode.IsUpper(rest) {
			return s
		}
	}
	return string(unicode.ToLower(r)) + s[size:]
}

// typeUses says where t travels: as the payload or acknowledgement of which events (those of ns
// for a namespace's own types, those of every namespace for shared ones), and as which variants
// of a discriminated type. It returns "" for a type that does none of these.
func typeUses(c *Contract, t *Type, ns *Namespace) string {
	namespaces := c.Namespaces
	if ns != nil {
		namespaces = []*Namespace{ns}
	}
	payloads, acks := &eventUses{}, &eventUses{}
	for _, n := range namespaces {
		for _, ev := range n.Events() {
			if ev.Payload == t {
				payloads.add(ev, n.Path)
			}
			if ev.Ack == t {
				acks.add(ev, n.Path)
			}
		}
	}
	var parts []string
	if len(payloads.events) > 0 {
		parts = append(parts, "the payload of "+payloads.String(ns == nil, true))
	}
	if len(acks.events) > 0 {
		parts = append(parts, "the acknowledgement of "+acks.String(ns == nil, false))
	}
	if v := variantOf(c, t); v != "" {
		parts = append(parts, v)
	}
	if len(parts) == 0 {
		return ""
	}
	return t.Name + " is " + strings.Join(parts, ", and ") + "."
}

// eventUses collects the events a type travels with, in schema order: per event name, the
// directions it travels in, and per direction the namespaces.
type eventUses struct {
	events []*eventUse
}

type eventUse struct {
	name       string
	directions []Direction
	paths      map[Direction][]string
}

func (u *eventUses) add(ev *Event, path string) {
	var e *eventUse
	for _, x := range u.events {
		if x.name == ev.Name {
			e = x
		}
	}
	if e == nil {
		e = &eventUse{name: ev.Name, paths: map[Direction][]string{}}
		u.events = append(u.events, e)
	}
	if _, ok := e.paths[ev.Direction]; !ok {
		e.directions = append(e.directions, ev.Direction)
	}
	e.paths[ev.Direction] = append(e.paths[ev.Direction], path)
}

// String renders the uses: `"error" on /relay and /runner (server to client)`, naming the
// namespaces when paths is set and the directions when directions is set.
func (u *eventUses) String(paths, directions bool) string {
	var events []string
	for _, e := range u.events {
		var where []string
		for _, d := range e.directions {
			w := ""
			if paths {
				w = "on " + list(e.paths[d])
			}
			if directions {
				w = strings.TrimSpace(w + " (" + directionWords[d] + ")")
			}
			if w != "" {
				where = append(where, w)
			}
		}
		events = append(events, strings.TrimSpace(fmt.Sprintf("%q %s", e.name, list(where))))
	}
	return list(events)
}

// list joins items as "a", "a and b" or "a, b and c".
func list(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

var directionWords = [numDirections]string{"client to server", "server to client", "between relay nodes"}

// variantOf names the discriminated types t is a variant of, with the discriminator values that
// select it: `an AgentEvent whose type is "message_end" or "turn_end"`.
func variantOf(c *Contract, t *Type) string {
	var parts []string
	for _, p := range c.allPackages() {
		for _, d := range p.Types {
			if d.Kind != KindDiscriminated {
				continue
			}
			var values []string
			for _, v := range d.Variants {
				if v.Type == t {
					values = append(values, fmt.Sprintf("%q", v.Value))
				}
			}
			if len(values) > 0 {
				parts = append(parts, fmt.Sprintf("%s %s whose %s is %s", article(d.Name), d.Name, d.Discriminator, strings.Join(values, " or ")))
			}
		}
	}
	return strings.Join(parts, " and ")
}

// article returns "an" before a name that starts with a vowel, else "a".
func article(name string) string {
	if name != "" && strings.ContainsRune("AEIOU", rune(name[0])) {
		return "an"
	}
	return "a"
}

// allPackages returns the shared package, the types-only packages and the namespaces' packages.
func (c *Contract) allPackages() []*Package {
	all := append([]*Package{c.Shared}, c.Packages...)
	for _, ns := range c.Namespaces {
		all = append(all, ns.Package)
	}
	return all
}
