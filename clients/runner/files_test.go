package runner

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rproto "github.com/pizzapi/pizzapi/protocol/runner"
)

// TestListFiles: dotfiles other than .gitignore and .env are hidden, directories come first,
// symlinks are flagged, sizes are given for files; relative paths start at the first root.
func TestListFiles(t *testing.T) {
	f := newFixture(t, nil)
	write(t, f.root, "b.txt", "bbb")
	write(t, f.root, "A.md", "a")
	write(t, f.root, ".hidden", "")
	write(t, f.root, ".gitignore", "x\n")
	write(t, f.root, ".env", "K=V\n")
	write(t, f.root, "zdir/inner.go", "package x")
	write(t, f.root, "adir/.keep", "")
	if err := os.Symlink("b.txt", filepath.Join(f.root, "link")); err != nil {
		t.Fatal(err)
	}
	r := f.file(t, rproto.EventListFiles, map[string]any{"path": f.root})
	if !r.OK {
		t.Fatalf("list_files: %s", r.Message)
	}
	var names []string
	for _, e := range r.Files {
		names = append(names, e.Name)
		if e.Path != filepath.Join(f.root, e.Name) {
			t.Errorf("%s: path %s", e.Name, e.Path)
		}
		switch e.Name {
		case "b.txt":
			if e.Size == nil || *e.Size != 3 || e.IsDirectory || e.IsSymlink {
				t.Errorf("b.txt: %+v", e)
			}
		case "link":
			if !e.IsSymlink || e.IsDirectory {
				t.Errorf("link: %+v", e)
			}
		case "adir", "zdir":
			if !e.IsDirectory || e.Size != nil {
				t.Errorf("%s: %+v", e.Name, e)
			}
		}
	}
	if got := strings.Join(names, " "); got != "adir zdir .env .gitignore A.md b.txt link" {
		t.Fatalf("entries %q", got)
	}
	r = f.file(t, rproto.EventListFiles, map[string]any{"path": "zdir"})
	if !r.OK || len(r.Files) != 1 || r.Files[0].Path != filepath.Join(f.root, "zdir", "inner.go") {
		t.Fatalf("relative list_files: %+v", r)
	}
	if r = f.file(t, rproto.EventListFiles, map[string]any{"path": ""}); r.OK || r.Message != "Missing path" {
		t.Fatalf("missing path: %+v", r)
	}
}

// TestReadFile: text and base64, truncation at maxBytes (without splitting a character in text),
// and the 256 KiB default.
func TestReadFile(t *testing.T) {
	f := newFixture(t, nil)
	text := write(t, f.root, "hello.txt", "héllo wörld\n")
	bin := []byte{0, 1, 2, 0xff, 0xfe, 'x'}
	if err := os.WriteFile(filepath.Join(f.root, "blob.bin"), bin, 0o644); err != nil {
		t.Fatal(err)
	}
	big := write(t, f.root, "big.txt", strings.Repeat("a", 300<<10))

	r := f.file(t, rproto.EventReadFile, map[string]any{"path": text})
	if !r.OK || r.Content != "héllo wörld\n" || r.Encoding != "" || r.Size != 14 || r.Truncated {
		t.Fatalf("utf8: %+v", r)
	}
	r = f.file(t, rproto.EventReadFile, map[string]any{"path": "blob.bin", "encoding": "base64"})
	if got, _ := base64.StdEncoding.DecodeString(r.Content); !r.OK || r.Encoding != "base64" || string(got) != string(bin) || r.Size != 6 || r.Truncated {
		t.Fatalf("base64: %+v", r)
	}
	// "hé" is 3 bytes: a 2-byte read must not end in half an é.
	r = f.file(t, rproto.EventReadFile, map[string]any{"path": text, "maxBytes": 2})
	if !r.OK || r.Content != "h" || !r.Truncated || r.Size != 14 {
		t.Fatalf("truncated utf8: %+v", r)
	}
	r = f.file(t, rproto.EventReadFile, map[string]any{"path": text, "maxBytes": 2, "encoding": "base64"})
	if got, _ := base64.StdEncoding.DecodeString(r.Content); !r.OK || string(got) != "h\xc3" || !r.Truncated {
		t.Fatalf("truncated base64: %+v", r)
	}
	r = f.file(t, rproto.EventReadFile, map[string]any{"path": big})
	if !r.OK || len(r.Content) != 256<<10 || !r.Truncated || r.Size != 300<<10 {
		t.Fatalf("default limit: ok=%v len=%d truncated=%v size=%d", r.OK, len(r.Content), r.Truncated, r.Size)
	}
	if r = f.file(t, rproto.EventReadFile, map[string]any{"path": f.root}); r.OK || !strings.Contains(r.Message, "not a regular file") {
		t.Fatalf("directory: %+v", r)
	}
	if r = f.file(t, rproto.EventReadFile, map[string]any{"path": "nope.txt"}); r.OK || r.Message != "Not found" {
		t.Fatalf("missing file: %+v", r)
	}
}

// TestConfinement: `..`, absolute paths outside the roots and symlinks that leave them are
// refused for list_files, read_file, git_status and git_diff, through the relay's commands and
// its REST API.
func TestConfinement(t *testing.T) {
	f := newFixture(t, nil)
	outside := t.TempDir()
	secret := write(t, outside, "secret.txt", "top secret")
	gitRepo(t, outside)
	if err := os.Symlink(outside, filepath.Join(f.root, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(f.root, "secret-link")); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(f.root, secret)
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{
		rel, // ../../002/secret.txt
		f.root + "/../../" + filepath.Base(outside) + "/secret.txt",
		secret,
		filepath.Join(f.root, "escape", "secret.txt"),
		filepath.Join(f.root, "secret-link"),
		"/etc/passwd",
	}
	for _, p := range paths {
		if r := f.file(t, rproto.EventReadFile, map[string]any{"path": p}); r.OK || r.Message != "Path outside allowed roots" {
			t.Errorf("read_file %s: %+v", p, r)
		}
	}
	for _, dir := range []string{outside, filepath.Join(f.root, "escape"), f.root + "/..", "..", f.root + "/../../" + filepath.Base(outside)} {
		if r := f.file(t, rproto.EventListFiles, map[string]any{"path": dir}); r.OK || r.Message != "Path outside allowed roots" {
			t.Errorf("list_files %s: %+v", dir, r)
		}
		if r := f.file(t, rproto.EventGitStatus, map[string]any{"cwd": dir}); r.OK || r.Message != "Path outside allowed roots" {
			t.Errorf("git_status %s: %+v", dir, r)
		}
		if r := f.file(t, rproto.EventGitDiff, map[string]any{"cwd": dir, "path": "a.txt"}); r.OK || r.Message != "Path outside allowed roots" {
			t.Errorf("git_diff %s: %+v", dir, r)
		}
	}
	// A cwd inside the roots does not let list_files or git_diff out either.
	if r := f.file(t, rproto.EventListFiles, map[string]any{"path": "../..", "cwd": f.root}); r.OK || r.Message != "Path outside allowed roots" {
		t.Errorf("list_files ../..: %+v", r)
	}
	repo := filepath.Join(f.root, "repo")
	gitRepo(t, repo)
	if r := f.file(t, rproto.EventGitDiff, map[string]any{"cwd": repo, "path": "../escape/a.txt"}); r.OK || r.Message != "Path outside allowed roots" {
		t.Errorf("git_diff ../escape/a.txt: %+v", r)
	}

	// Through REST: the relay answers 403 with the runner's message (it was 500); a NUL byte is a
	// 400 that names no system call (it was the raw lstat error), a missing file a 404.
	var res struct {
		Error string `json:"error"`
	}
	if code := f.rest(t, "POST", "/api/runners/"+f.d.ID()+"/read-file", map[string]any{"path": filepath.Join(f.root, "secret-link")}, &res); code != 403 || res.Error != "Path outside allowed roots" {
		t.Fatalf("REST read-file: %d %+v", code, res)
	}
	if code := f.rest(t, "POST", "/api/runners/"+f.d.ID()+"/read-file", map[string]any{"path": "a\x00b"}, &res); code != 400 || res.Error != "Invalid path" {
		t.Fatalf("REST read-file with a NUL byte: %d %+v", code, res)
	}
	if code := f.rest(t, "POST", "/api/runners/"+f.d.ID()+"/files", map[string]any{"path": "missing-dir"}, &res); code != 404 || res.Error != "Not found" {
		t.Fatalf("REST list of a missing directory: %d %+v", code, res)
	}
	var ok struct {
		Content string `json:"content"`
	}
	write(t, f.root, "fine.txt", "fine")
	if code := f.rest(t, "POST", "/api/runners/"+f.d.ID()+"/read-file", map[string]any{"path": filepath.Join(f.root, "fine.txt")}, &ok); code != 200 || ok.Content != "fine" {
		t.Fatalf("REST read-file inside: %d %+v", code, ok)
	}
}
