package runner

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	rproto "github.com/pizzapi/pizzapi/protocol/runner"
)

// gitRun runs git in dir with a configuration of its own, failing the test on errors.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// gitRepo makes a repository on branch main with one commit of a.txt and b.txt.
func gitRepo(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gitRun(t, dir, "init", "-q", "-b", "main")
	gitRun(t, dir, "config", "user.email", "test@example.com")
	gitRun(t, dir, "config", "user.name", "Test")
	gitRun(t, dir, "config", "commit.gpgsign", "false")
	write(t, dir, "a.txt", "one\ntwo\n")
	write(t, dir, "b.txt", "bee\n")
	gitRun(t, dir, "add", ".")
	gitRun(t, dir, "commit", "-q", "-m", "first")
}

// TestGit: git_status and git_diff on a real repository with an upstream it is ahead of and
// behind, staged, unstaged, renamed and untracked changes.
func TestGit(t *testing.T) {
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	f := newFixture(t, nil)
	upstream := filepath.Join(f.root, "upstream")
	gitRepo(t, upstream)
	repo := filepath.Join(f.root, "repo")
	gitRun(t, f.root, "clone", "-q", upstream, repo)
	gitRun(t, repo, "config", "user.email", "test@example.com")
	gitRun(t, repo, "config", "user.name", "Test")
	write(t, upstream, "c.txt", "upstream change\n")
	gitRun(t, upstream, "add", ".")
	gitRun(t, upstream, "commit", "-q", "-m", "upstream")
	gitRun(t, repo, "fetch", "-q")
	write(t, repo, "local.txt", "local\n")
	gitRun(t, repo, "add", ".")
	gitRun(t, repo, "commit", "-q", "-m", "local")

	write(t, repo, "a.txt", "one\nTWO\n")              // unstaged change
	gitRun(t, repo, "mv", "b.txt", "bee.txt")          // staged rename
	write(t, repo, "new dir/untracked.txt", "hello\n") // untracked, in a directory with a space
	write(t, repo, "staged.txt", "staged\n")
	gitRun(t, repo, "add", "staged.txt")

	r := f.file(t, rproto.EventGitStatus, map[string]any{"cwd": repo})
	if !r.OK || r.Branch != "main" || r.Ahead != 1 || r.Behind != 1 {
		t.Fatalf("git_status: %+v", r)
	}
	want := []gitChange{
		{Status: "R", Path: "bee.txt", OriginalPath: "b.txt"},
		{Status: "M", Path: "a.txt"},
		{Status: "A", Path: "staged.txt"},
		{Status: "??", Path: "new dir/untracked.txt"},
	}
	got := map[string]gitChange{}
	for _, c := range r.Changes {
		got[c.Path] = c
	}
	for _, w := range want {
		if got[w.Path] != w {
			t.Errorf("change %+v, want %+v (all: %+v)", got[w.Path], w, r.Changes)
		}
	}
	if len(r.Changes) != len(want) || !strings.Contains(r.DiffStaged, "staged.txt") || !strings.Contains(r.DiffStaged, "2 files changed") {
		t.Fatalf("changes %+v, diffStaged %q", r.Changes, r.DiffStaged)
	}

	// From a subdirectory too: git_diff paths are relative to the repository's top level.
	sub := filepath.Join(repo, "new dir")
	r = f.file(t, rproto.EventGitDiff, map[string]any{"cwd": sub, "path": "a.txt", "staged": false})
	if !r.OK || !strings.Contains(r.Diff, "-two") || !strings.Contains(r.Diff, "+TWO") {
		t.Fatalf("git_diff: %+v", r)
	}
	r = f.file(t, rproto.EventGitDiff, map[string]any{"cwd": repo, "path": "staged.txt", "staged": true})
	if !r.OK || !strings.Contains(r.Diff, "+staged") {
		t.Fatalf("git_diff staged: %+v", r)
	}
	r = f.file(t, rproto.EventGitDiff, map[string]any{"cwd": repo, "path": "staged.txt"})
	if !r.OK || r.Diff != "" {
		t.Fatalf("git_diff unstaged of a staged file: %+v", r)
	}
	r = f.file(t, rproto.EventGitStatus, map[string]any{"cwd": f.root})
	if r.OK || !strings.Contains(r.Message, "not a git repository") {
		t.Fatalf("git_status outside a repository: %+v", r)
	}
	if r = f.file(t, rproto.EventGitDiff, map[string]any{"cwd": repo, "path": ""}); r.OK || r.Message != "Missing path" {
		t.Fatalf("git_diff without path: %+v", r)
	}
}

// TestParseStatus covers the header forms of `git status -b` and -z records.
func TestParseStatus(t *testing.T) {
	for header, want := range map[string][3]any{
		"main":                                   {"main", 0, 0},
		"main...origin/main":                     {"main", 0, 0},
		"feature/x...origin/feature/x [ahead 3]": {"feature/x", 3, 0},
		"main...origin/main [behind 2]":          {"main", 0, 2},
		"main...origin/main [ahead 1, behind 7]": {"main", 1, 7},
		"main...origin/main [gone]":              {"main", 0, 0},
		"No commits yet on trunk":                {"trunk", 0, 0},
		"HEAD (no branch)":                       {"HEAD", 0, 0},
	} {
		b, a, bh := parseBranch(header)
		if got := [3]any{b, a, bh}; got != want {
			t.Errorf("%q: %v, want %v", header, got, want)
		}
	}
	st := parseStatus("## main\x00R  new name\x00old name\x00 M a -> b.txt\x00C  copy\x00src\x00?? x\x00")
	want := []gitChange{{"R", "new name", "old name"}, {"M", "a -> b.txt", ""}, {"C", "copy", "src"}, {"??", "x", ""}}
	if st.Branch != "main" || !reflect.DeepEqual(st.Changes, want) {
		t.Fatalf("%+v", st)
	}
}
