package runner

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pizzapi/pizzapi/protocol"
	rproto "github.com/pizzapi/pizzapi/protocol/runner"
)

// skillName is what a skill's name must look like (it names a directory).
var skillName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// errNoSkill answers a command about a skill that does not exist.
var errNoSkill = protocol.NewError(protocol.ErrorCodeNotFound, "Skill not found")

// skills are the Markdown instruction files in dir, one <name>/SKILL.md each.
type skills struct {
	dir string
	mu  sync.Mutex
}

// ListSkills implements rproto.ClientHandler.
func (h *handler) ListSkills(_ context.Context, p *rproto.ListSkills) error {
	h.d.async(func() {
		list, err := h.d.skills.list()
		if err != nil {
			h.d.log.Warn("cannot read the skills", "dir", h.d.skills.dir, "error", err)
		}
		h.d.failed(rproto.EventSkillsList, h.d.emit.SkillsList(&rproto.SkillsList{Skills: list, RequestID: p.RequestID}))
	})
	return nil
}

// CreateSkill implements rproto.ClientHandler.
func (h *handler) CreateSkill(_ context.Context, p *rproto.CreateSkill) error {
	h.skillChange(p.RequestID, func() error { return h.d.skills.write(p.Name, p.Content, true) })
	return nil
}

// UpdateSkill implements rproto.ClientHandler.
func (h *handler) UpdateSkill(_ context.Context, p *rproto.UpdateSkill) error {
	h.skillChange(p.RequestID, func() error { return h.d.skills.write(p.Name, p.Content, false) })
	return nil
}

// DeleteSkill implements rproto.ClientHandler.
func (h *handler) DeleteSkill(_ context.Context, p *rproto.DeleteSkill) error {
	h.skillChange(p.RequestID, func() error { return h.d.skills.remove(p.Name) })
	return nil
}

// GetSkill implements rproto.ClientHandler.
func (h *handler) GetSkill(_ context.Context, p *rproto.GetSkill) error {
	h.d.async(func() {
		res := rproto.SkillResult{RequestID: p.RequestID, OK: true}
		content, err := h.d.skills.get(p.Name)
		if err != nil {
			res.OK, res.Code, res.Message = false, failureCode(err), protocol.Some(err.Error())
		} else {
			res.Name, res.Content = protocol.Some(p.Name), protocol.Some(content)
		}
		h.d.failed(rproto.EventSkillResult, h.d.emit.SkillResult(&res))
	})
	return nil
}

// skillChange runs a change to the skills and answers skill_result with the new list, or with
// ok: false and the reason.
func (h *handler) skillChange(requestID protocol.Optional[string], change func() error) {
	h.d.async(func() {
		res := rproto.SkillResult{RequestID: requestID, OK: true}
		err := change()
		var list []protocol.RunnerSkill
		if err == nil {
			list, err = h.d.skills.list()
		}
		if err != nil {
			res.OK, res.Code, res.Message = false, failureCode(err), protocol.Some(err.Error())
		} else {
			res.Skills = protocol.Some(list)
		}
		h.d.failed(rproto.EventSkillResult, h.d.emit.SkillResult(&res))
	})
}

// file returns the path of a skill's file after checking its name.
func (s *skills) file(name string) (string, error) {
	if !skillName.MatchString(name) {
		return "", protocol.NewError(protocol.ErrorCodeInvalid, "Invalid skill name: use lower-case letters, digits and dashes")
	}
	return filepath.Join(s.dir, name, "SKILL.md"), nil
}

// list reads every skill's name and description (a missing directory has none).
func (s *skills) list() ([]protocol.RunnerSkill, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []protocol.RunnerSkill{}
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	for _, e := range entries {
		path, err := s.file(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		out = append(out, protocol.RunnerSkill{Name: e.Name(), Description: description(string(data)), FilePath: path})
	}
	slices.SortFunc(out, func(a, b protocol.RunnerSkill) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// get reads a skill's file.
func (s *skills) get(name string) (string, error) {
	path, err := s.file(name)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", errNoSkill
	}
	return string(data), err
}

// write creates a skill (create set: it must not exist) or replaces one (it must exist).
func (s *skills) write(name, content string, create bool) error {
	path, err := s.file(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = os.Stat(path)
	switch {
	case create && err == nil:
		return protocol.Errorf(protocol.ErrorCodeConflict, "Skill %s already exists", name)
	case !create && errors.Is(err, fs.ErrNotExist):
		return errNoSkill
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// remove deletes a skill's directory.
func (s *skills) remove(name string) error {
	path, err := s.file(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return errNoSkill
	}
	return os.RemoveAll(filepath.Dir(path))
}

// description returns the `description:` of a skill file's YAML front matter: a plain or quoted
// scalar, or a block scalar (`>` or `|`) whose lines are joined with spaces.
func description(content string) string {
	lines := strings.Split(strings.ReplaceAll(content, "\r\n", "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "---" {
		return ""
	}
	for i := 1; i < len(lines) && strings.TrimSpace(lines[i]) != "---"; i++ {
		value, ok := strings.CutPrefix(lines[i], "description:")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		if value == "" || strings.HasPrefix(value, ">") || strings.HasPrefix(value, "|") {
			var parts []string
			for _, l := range lines[i+1:] {
				if l == "" || (l[0] != ' ' && l[0] != '\t') {
					break
				}
				parts = append(parts, strings.TrimSpace(l))
			}
			return strings.Join(parts, " ")
		}
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			if s, err := strconv.Unquote(value); err == nil {
				return s
			}
		}
		if len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'' {
			return strings.ReplaceAll(value[1:len(value)-1], "''", "'")
		}
		return value
	}
	return ""
}
