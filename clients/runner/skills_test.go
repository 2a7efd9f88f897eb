package runner

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pizzapi/pizzapi/protocol"
	rproto "github.com/pizzapi/pizzapi/protocol/runner"
)

// skillReply is a skill_result or skills_list as the tests read it.
type skillReply struct {
	OK      bool                   `json:"ok"`
	Message string                 `json:"message"`
	Skills  []protocol.RunnerSkill `json:"skills"`
	Name    string                 `json:"name"`
	Content string                 `json:"content"`
}

// TestSkills: skills found at start-up are registered; create, get, update, list and delete work
// through the relay, which keeps the list it is sent.
func TestSkills(t *testing.T) {
	var skillsDir string
	f := newFixture(t, func(c *Config) {
		skillsDir = c.SkillsDir
		write(t, skillsDir, "review/SKILL.md", "---\nname: review\ndescription: Review a change\n---\nBody\n")
		write(t, skillsDir, "Not_Valid/SKILL.md", "---\ndescription: ignored\n---\n")
		write(t, skillsDir, "empty/README.md", "no SKILL.md here")
	})
	ctx := context.Background()
	stored := func() []protocol.RunnerSkill {
		s, err := f.n.Server.Core().RunnerSkills(ctx, f.u.ID, f.d.ID())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := stored(); len(s) != 1 || s[0].Name != "review" || s[0].Description != "Review a change" || s[0].FilePath != filepath.Join(skillsDir, "review", "SKILL.md") {
		t.Fatalf("registered skills %+v", s)
	}

	var r skillReply
	f.command(t, rproto.EventCreateSkill, map[string]any{"name": "deploy", "content": "---\ndescription: \"Ship it\"\n---\nSteps\n"}, &r)
	if !r.OK || len(r.Skills) != 2 || r.Skills[0].Name != "deploy" || r.Skills[0].Description != "Ship it" {
		t.Fatalf("create: %+v", r)
	}
	if fi, err := os.Stat(filepath.Join(skillsDir, "deploy", "SKILL.md")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("skill file: %v %v", fi, err)
	}
	if s := stored(); len(s) != 2 {
		t.Fatalf("stored skills %+v", s)
	}
	f.command(t, rproto.EventCreateSkill, map[string]any{"name": "deploy", "content": "x"}, &r)
	if r.OK || r.Message != "Skill deploy already exists" {
		t.Fatalf("create twice: %+v", r)
	}
	// The contract refuses bad names before they reach the runner, which checks them again.
	if _, err := f.d.skills.file("../evil"); err == nil {
		t.Fatal("bad name accepted")
	}
	f.command(t, rproto.EventUpdateSkill, map[string]any{"name": "deploy", "content": "---\ndescription: >\n  Ship it\n  carefully\n---\n"}, &r)
	if !r.OK || r.Skills[0].Description != "Ship it carefully" {
		t.Fatalf("update: %+v", r)
	}
	f.command(t, rproto.EventUpdateSkill, map[string]any{"name": "nope", "content": "x"}, &r)
	if r.OK || r.Message != "Skill not found" {
		t.Fatalf("update missing: %+v", r)
	}
	r = skillReply{}
	f.command(t, rproto.EventGetSkill, map[string]any{"name": "deploy"}, &r)
	if !r.OK || r.Name != "deploy" || r.Content != "---\ndescription: >\n  Ship it\n  carefully\n---\n" {
		t.Fatalf("get: %+v", r)
	}
	f.command(t, rproto.EventGetSkill, map[string]any{"name": "nope"}, &r)
	if r.OK || r.Message != "Skill not found" {
		t.Fatalf("get missing: %+v", r)
	}
	f.command(t, rproto.EventDeleteSkill, map[string]any{"name": "review"}, &r)
	if !r.OK || len(r.Skills) != 1 || r.Skills[0].Name != "deploy" {
		t.Fatalf("delete: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(skillsDir, "review")); !os.IsNotExist(err) {
		t.Fatalf("skill directory left: %v", err)
	}
	f.command(t, rproto.EventDeleteSkill, map[string]any{"name": "review"}, &r)
	if r.OK || r.Message != "Skill not found" {
		t.Fatalf("delete twice: %+v", r)
	}
	r = skillReply{}
	f.command(t, rproto.EventListSkills, nil, &r)
	if len(r.Skills) != 1 || r.Skills[0].Name != "deploy" {
		t.Fatalf("list: %+v", r)
	}
	if s := stored(); len(s) != 1 || s[0].Name != "deploy" {
		t.Fatalf("stored skills %+v", s)
	}
}

// TestDescription covers the front matter forms.
func TestDescription(t *testing.T) {
	for content, want := range map[string]string{
		"---\ndescription: plain text\n---\n":               "plain text",
		"---\r\nname: x\r\ndescription: crlf\r\n---\r\n":    "crlf",
		"---\ndescription: 'it''s quoted'\n---\n":           "it's quoted",
		"---\ndescription: \"tab\\there\"\n---\n":           "tab\there",
		"---\ndescription: |\n  one\n  two\nname: x\n---\n": "one two",
		"no front matter\ndescription: no\n":                "",
		"---\nname: x\n---\ndescription: after\n":           "",
	} {
		if got := description(content); got != want {
			t.Errorf("%q: %q, want %q", content, got, want)
		}
	}
}
