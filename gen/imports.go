package gen

import (
	"bytes"
	"strconv"
	"strings"
)

// groupImports puts the standard library's imports of a generated Go file in a group of their own,
// before the others, the way goimports lays them out (jennifer writes a single group).
func groupImports(src []byte) []byte {
	const open, closing = "\nimport (\n", "\n)\n"
	start := bytes.Index(src, []byte(open))
	if start < 0 {
		return src
	}
	body := start + len(open)
	end := bytes.Index(src[body:], []byte(closing))
	if end < 0 {
		return src
	}
	var std, other []string
	for _, line := range strings.Split(string(src[body:body+end]), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if isStdImport(line) {
			std = append(std, line)
		} else {
			other = append(other, line)
		}
	}
	if len(std) == 0 || len(other) == 0 {
		return src
	}
	var out bytes.Buffer
	out.Write(src[:body])
	out.WriteString("\t" + strings.Join(std, "\n\t") + "\n\n\t" + strings.Join(other, "\n\t"))
	out.Write(src[body+end:])
	return out.Bytes()
}

// isStdImport reports whether an import line (`"fmt"` or `name "path"`) names a standard library
// package: one whose first path element has no dot.
func isStdImport(line string) bool {
	path := line[strings.IndexByte(line, '"'):]
	p, err := strconv.Unquote(path)
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}
