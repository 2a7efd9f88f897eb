package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	rproto "github.com/pizzapi/pizzapi/protocol/runner"
)

// gitTimeout bounds one git command (the relay gives up after 15 s).
const gitTimeout = 10 * time.Second

// gitChange is one entry of git_status's changes.
type gitChange struct {
	Status       string `json:"status"`
	Path         string `json:"path"`
	OriginalPath string `json:"originalPath,omitempty"`
}

// gitStatus is a git_status answer.
type gitStatus struct {
	Branch     string      `json:"branch"`
	Changes    []gitChange `json:"changes"`
	Ahead      int         `json:"ahead"`
	Behind     int         `json:"behind"`
	DiffStaged string      `json:"diffStaged"`
}

// GitStatus implements rproto.ClientHandler.
func (h *handler) GitStatus(ctx context.Context, p *rproto.GitStatus) error {
	h.d.async(func() {
		st, err := h.d.gitStatus(ctx, p.Cwd)
		h.d.fileResult(p.RequestID, st, err)
	})
	return nil
}

// GitDiff implements rproto.ClientHandler.
func (h *handler) GitDiff(ctx context.Context, p *rproto.GitDiff) error {
	h.d.async(func() {
		diff, err := h.d.gitDiff(ctx, p.Cwd, p.Path, p.Staged.Or(false))
		h.d.fileResult(p.RequestID, struct {
			Diff string `json:"diff"`
		}{diff}, err)
	})
	return nil
}

// git runs a git command in dir and returns its output; a failure carries git's message.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append([]string{"--no-optional-locks", "--literal-pathspecs"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", errors.New(msg)
		}
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return stdout.String(), nil
}

// gitStatus reports the branch, the changed files and the staged diffstat of the repository
// around cwd.
func (d *Daemon) gitStatus(ctx context.Context, cwd string) (*gitStatus, error) {
	if cwd == "" {
		return nil, errMissing("cwd")
	}
	_, dir, err := d.roots.resolve(cwd, "")
	if err != nil {
		return nil, err
	}
	out, err := git(ctx, dir, "status", "--porcelain=v1", "-uall", "-b", "-z")
	if err != nil {
		return nil, err
	}
	st := parseStatus(out)
	st.DiffStaged, _ = git(ctx, dir, "diff", "--cached", "--stat")
	return st, nil
}

// parseStatus parses `git status --porcelain=v1 -b -z`: a `## branch...upstream [ahead N,
// behind M]` header, then `XY path` entries, renames and copies followed by their source path.
func parseStatus(out string) *gitStatus {
	st := &gitStatus{Changes: []gitChange{}}
	fields := strings.Split(out, "\x00")
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case strings.HasPrefix(f, "## "):
			st.Branch, st.Ahead, st.Behind = parseBranch(f[3:])
		case len(f) > 3:
			c := gitChange{Status: strings.TrimSpace(f[:2]), Path: f[3:]}
			if strings.ContainsAny(f[:2], "RC") && i+1 < len(fields) {
				i++
				c.OriginalPath = fields[i]
			}
			st.Changes = append(st.Changes, c)
		}
	}
	return st
}

// parseBranch parses the header of `git status -b`.
func parseBranch(h string) (branch string, ahead, behind int) {
	if i := strings.Index(h, " ["); i >= 0 && strings.HasSuffix(h, "]") {
		for _, part := range strings.Split(h[i+2:len(h)-1], ", ") {
			_, _ = fmt.Sscanf(part, "ahead %d", &ahead)
			_, _ = fmt.Sscanf(part, "behind %d", &behind)
		}
		h = h[:i]
	}
	for _, prefix := range []string{"No commits yet on ", "Initial commit on "} {
		h = strings.TrimPrefix(h, prefix)
	}
	if h == "HEAD (no branch)" {
		return "HEAD", ahead, behind
	}
	branch, _, _ = strings.Cut(h, "...")
	return branch, ahead, behind
}

// gitDiff diffs one file of the repository around cwd; path is relative to the repository's top
// level, as git_status lists it.
func (d *Daemon) gitDiff(ctx context.Context, cwd, path string, staged bool) (string, error) {
	switch {
	case cwd == "":
		return "", errMissing("cwd")
	case path == "":
		return "", errMissing("path")
	}
	_, dir, err := d.roots.resolve(cwd, "")
	if err != nil {
		return "", err
	}
	out, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", err
	}
	top := strings.TrimSpace(out)
	file, _, err := d.roots.resolve(path, top)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(top, file)
	if err != nil {
		return "", err
	}
	args := []string{"diff"}
	if staged {
		args = append(args, "--cached")
	}
	return git(ctx, top, append(args, "--", rel)...)
}
