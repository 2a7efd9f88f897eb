package gen

import (
	"strings"
	"unicode"
)

// initialisms are the words Go spells in capitals (https://go.dev/wiki/CodeReviewComments#initialisms).
var initialisms = map[string]string{
	"api": "API", "cli": "CLI", "cpu": "CPU", "http": "HTTP", "id": "ID", "ip": "IP",
	"json": "JSON", "ok": "OK", "pty": "PTY", "sql": "SQL", "ttl": "TTL", "ui": "UI",
	"url": "URL", "utf8": "UTF8", "uuid": "UUID",
}

// words splits snake_case, kebab-case and camelCase names into lower-case words.
func words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
			(i+1 < len(rs) && unicode.IsUpper(rs[i-1]) && unicode.IsLower(rs[i+1]))):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return out
}

// goName turns a wire name into an exported Go identifier: "sessionId" becomes "SessionID",
// "exec_result" becomes "ExecResult".
func goName(s string) string {
	var b strings.Builder
	for _, w := range words(s) {
		if up, ok := initialisms[w]; ok {
			b.WriteString(up)
			continue
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	name := b.String()
	if name == "" || unicode.IsDigit(rune(name[0])) {
		name = "V" + name
	}
	return name
}

// isIdentifier reports whether s is a valid exported Go identifier (and TS identifier).
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) && r < unicode.MaxASCII || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return unicode.IsUpper(rune(s[0]))
}
