package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pizzapi/pizzapi/protocol"
	rproto "github.com/pizzapi/pizzapi/protocol/runner"
)

// Limits of read_file: the default when the request has no maxBytes (PizzaPi's), and the most
// the runner reads whatever the request says.
const (
	defaultReadBytes = 256 << 10
	maxReadBytes     = 32 << 20
)

// fileEntry is one entry of a list_files answer.
type fileEntry struct {
	Name        string `json:"name"`
	Path        string `json:"path"`
	IsDirectory bool   `json:"isDirectory"`
	IsSymlink   bool   `json:"isSymlink"`
	Size        *int64 `json:"size,omitempty"`
}

// readResult is a read_file answer.
type readResult struct {
	Content   string `json:"content"`
	Encoding  string `json:"encoding,omitempty"`
	Size      int64  `json:"size"`
	Truncated bool   `json:"truncated"`
}

// ListFiles implements rproto.ClientHandler.
func (h *handler) ListFiles(_ context.Context, p *rproto.ListFiles) error {
	h.d.async(func() {
		files, err := h.d.listFiles(p.Path, p.Cwd.Or(""))
		h.d.fileResult(p.RequestID, struct {
			Files []fileEntry `json:"files"`
		}{files}, err)
	})
	return nil
}

// ReadFile implements rproto.ClientHandler.
func (h *handler) ReadFile(_ context.Context, p *rproto.ReadFile) error {
	h.d.async(func() {
		res, err := h.d.readFile(p)
		h.d.fileResult(p.RequestID, res, err)
	})
	return nil
}

// fileResult answers a file or git command: {ok: true, ...fields of v} or {ok: false, code, message}.
func (d *Daemon) fileResult(requestID protocol.Optional[string], v any, err error) {
	res := rproto.FileResult{RequestID: requestID}
	if err == nil {
		var raw []byte
		if raw, err = json.Marshal(v); err == nil {
			err = json.Unmarshal(raw, &res.Extra)
		}
	}
	if err != nil {
		res.OK, res.Code, res.Message, res.Extra = protocol.Some(false), failureCode(err), protocol.Some(failureMessage(err)), nil
	} else {
		res.OK = protocol.Some(true)
	}
	d.failed(rproto.EventFileResult, d.emit.FileResult(&res))
}

// failureMessage is what a file or git command's failure tells the relay: the error, except that
// a file system error names neither the operation's system call nor the resolved path (which may
// differ from the one asked for, behind a symlink), only what went wrong.
func failureMessage(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "Not found"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	case errors.As(err, &pe):
		return pe.Err.Error()
	}
	return err.Error()
}

// failureCode is the code of a command's failure: a missing file is not found, a file the runner
// may not read is forbidden, another file system error (not a directory, a NUL byte) is the
// request's mistake, and a coded error keeps its code. Anything else (git failing) has none: the
// relay reports it as the runner's own failure.
func failureCode(err error) protocol.Optional[protocol.ErrorCode] {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return protocol.Some(protocol.ErrorCodeNotFound)
	case errors.Is(err, fs.ErrPermission):
		return protocol.Some(protocol.ErrorCodeForbidden)
	case protocol.CodeOf(err) != "":
		return protocol.Some(protocol.CodeOf(err))
	case errors.As(err, &pe):
		return protocol.Some(protocol.ErrorCodeInvalid)
	}
	return protocol.Optional[protocol.ErrorCode]{}
}

// base confines the optional cwd of a request; relative paths are taken from it (or from the
// first root without one).
func (d *Daemon) base(cwd string) (string, error) {
	if cwd == "" {
		return "", nil
	}
	clean, _, err := d.roots.resolve(cwd, "")
	return clean, err
}

// listFiles lists a directory: dotfiles other than .gitignore and .env are hidden, directories
// come first, then files, each group in alphabetical order.
func (d *Daemon) listFiles(path, cwd string) ([]fileEntry, error) {
	if path == "" {
		return nil, errMissing("path")
	}
	base, err := d.base(cwd)
	if err != nil {
		return nil, err
	}
	clean, real, err := d.roots.resolve(path, base)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(real)
	if err != nil {
		return nil, err
	}
	files := []fileEntry{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") && name != ".gitignore" && name != ".env" {
			continue
		}
		f := fileEntry{Name: name, Path: filepath.Join(clean, name), IsSymlink: e.Type()&fs.ModeSymlink != 0}
		if fi, err := os.Stat(filepath.Join(real, name)); err == nil {
			f.IsDirectory = fi.IsDir()
			if fi.Mode().IsRegular() {
				size := fi.Size()
				f.Size = &size
			}
		}
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b fileEntry) int {
		if a.IsDirectory != b.IsDirectory {
			if a.IsDirectory {
				return -1
			}
			return 1
		}
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return files, nil
}

// readFile reads at most maxBytes of a regular file, as text or base64.
func (d *Daemon) readFile(p *rproto.ReadFile) (*readResult, error) {
	if p.Path == "" {
		return nil, errMissing("path")
	}
	base, err := d.base(p.Cwd.Or(""))
	if err != nil {
		return nil, err
	}
	_, real, err := d.roots.resolve(p.Path, base)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, protocol.Errorf(protocol.ErrorCodeInvalid, "%s is not a regular file", p.Path)
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	limit := p.MaxBytes.Or(0)
	if limit <= 0 {
		limit = defaultReadBytes
	}
	data, err := io.ReadAll(io.LimitReader(f, min(limit, maxReadBytes)))
	if err != nil {
		return nil, err
	}
	res := &readResult{Size: fi.Size(), Truncated: fi.Size() > int64(len(data))}
	if p.Encoding.Or(rproto.ReadFileEncodingUTF8) == rproto.ReadFileEncodingBase64 {
		res.Content, res.Encoding = base64.StdEncoding.EncodeToString(data), "base64"
		return res, nil
	}
	if res.Truncated {
		data = trimPartialRune(data)
	}
	res.Content = string(data)
	return res, nil
}

// trimPartialRune drops an incomplete UTF-8 sequence that a truncation left at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}
