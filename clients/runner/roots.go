package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pizzapi/pizzapi/protocol"
)

// errOutside is the answer to any path that leaves the workspace roots.
var errOutside = protocol.NewError(protocol.ErrorCodeForbidden, "Path outside allowed roots")

// errInvalidPath is the answer to a path no file can have (a NUL byte).
var errInvalidPath = protocol.NewError(protocol.ErrorCodeInvalid, "Invalid path")

// roots are the workspace roots: everything the runner reads, lists, or starts sessions and
// terminals in must lie inside one of them, both as written and with symlinks resolved.
type roots struct {
	list []string // absolute and clean, as registered
	real []string // the same with symlinks resolved
}

// newRoots normalises workspace roots (backslashes become slashes, relative paths are made
// absolute, trailing slashes go, duplicates are dropped). Each root must be an existing directory.
func newRoots(in []string) (roots, error) {
	var r roots
	seen := map[string]bool{}
	for _, p := range in {
		p = strings.ReplaceAll(strings.TrimSpace(p), `\`, "/")
		if p == "" {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return r, err
		}
		if seen[abs] {
			continue
		}
		seen[abs] = true
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return r, fmt.Errorf("workspace root %s: %w", abs, err)
		}
		if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
			return r, fmt.Errorf("workspace root %s is not a directory", abs)
		}
		r.list = append(r.list, abs)
		r.real = append(r.real, real)
	}
	if len(r.list) == 0 {
		return r, errors.New("no workspace root: pass --roots or set PIZZAPI_WORKSPACE_ROOTS")
	}
	return r, nil
}

// within reports whether p is one of dirs or below one.
func within(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, strings.TrimSuffix(d, "/")+"/") {
			return true
		}
	}
	return false
}

// resolve confines p, relative to base (the first root when empty), to the roots. It returns the
// clean absolute path as written and the same path with its symlinks resolved (the part that
// exists; a missing tail is kept as it is). Either one outside the roots is errOutside.
func (r roots) resolve(p, base string) (clean, real string, err error) {
	if strings.IndexByte(p, 0) >= 0 || strings.IndexByte(base, 0) >= 0 {
		return "", "", errInvalidPath
	}
	if !filepath.IsAbs(p) {
		if base == "" {
			base = r.list[0]
		}
		p = filepath.Join(base, p)
	}
	clean = filepath.Clean(p)
	if !within(clean, r.list) && !within(clean, r.real) {
		return "", "", errOutside
	}
	real, err = evalExisting(clean)
	if err != nil {
		return "", "", err
	}
	if !within(real, r.real) {
		return "", "", errOutside
	}
	return clean, real, nil
}

// evalExisting resolves the symlinks of the longest existing prefix of the clean absolute path p.
func evalExisting(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return real, err
	}
	parent := filepath.Dir(p)
	if parent == p {
		return p, nil
	}
	rp, err := evalExisting(parent)
	if err != nil {
		return "", err
	}
	return filepath.Join(rp, filepath.Base(p)), nil
}

// dir confines a working directory (the first root when empty) and checks that it is an existing
// directory. Its errors are meant for people: they name the directory.
func (r roots) dir(cwd string) (string, error) {
	if cwd == "" {
		return r.list[0], nil
	}
	clean, real, err := r.resolve(cwd, "")
	if errors.Is(err, errOutside) {
		return "", fmt.Errorf("cwd %s is outside the runner's workspace roots (%s)", cwd, strings.Join(r.list, ", "))
	}
	if err != nil {
		return "", fmt.Errorf("cwd %s: %w", cwd, err)
	}
	fi, err := os.Stat(real)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("cwd %s does not exist", cwd)
	case err != nil:
		return "", fmt.Errorf("cwd %s: %w", cwd, err)
	case !fi.IsDir():
		return "", fmt.Errorf("cwd %s is not a directory", cwd)
	}
	return clean, nil
}

// errMissing answers a command without an argument it needs.
func errMissing(what string) error {
	return protocol.NewError(protocol.ErrorCodeInvalid, "Missing "+what)
}
