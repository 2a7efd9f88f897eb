package api_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/protocol/runner"
)

// skillStore is a runner's skill directory.
type skillStore struct {
	mu     sync.Mutex
	skills map[string]string
}

// answer implements the skill commands of a runner daemon.
func (s *skillStore) answer(event string, payload []byte) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(msg string) answer {
		return answer{event: runner.EventSkillResult, payload: map[string]any{"ok": false, "message": msg}}
	}
	switch event {
	case runner.EventGetSkill:
		var p runner.GetSkill
		_ = p.UnmarshalJSON(payload)
		content, ok := s.skills[p.Name]
		if !ok {
			return fail("Skill not found")
		}
		return answer{event: runner.EventSkillResult, payload: map[string]any{"ok": true, "name": p.Name, "content": content}}
	case runner.EventCreateSkill:
		var p runner.CreateSkill
		_ = p.UnmarshalJSON(payload)
		if _, ok := s.skills[p.Name]; ok {
			return fail("Skill already exists")
		}
		s.skills[p.Name] = p.Content
	case runner.EventUpdateSkill:
		var p runner.UpdateSkill
		_ = p.UnmarshalJSON(payload)
		if _, ok := s.skills[p.Name]; !ok {
			return fail("Skill not found")
		}
		s.skills[p.Name] = p.Content
	case runner.EventDeleteSkill:
		var p runner.DeleteSkill
		_ = p.UnmarshalJSON(payload)
		if _, ok := s.skills[p.Name]; !ok {
			return fail("Skill not found")
		}
		delete(s.skills, p.Name)
	default:
		return answer{}
	}
	list := []map[string]any{}
	for name := range s.skills {
		list = append(list, map[string]any{"name": name, "description": "", "filePath": "/s/" + name + "/SKILL.md"})
	}
	return answer{event: runner.EventSkillResult, payload: map[string]any{"ok": true, "skills": list}}
}

func TestSkillsCRUD(t *testing.T) {
	e := newEnv(t)
	ada := e.newUser(t, "Ada")
	rn := e.connectRunner(t, ada, nil, []protocol.RunnerSkill{{Name: "notes", Description: "Take notes", FilePath: "/s/notes/SKILL.md"}})
	skills := &skillStore{skills: map[string]string{"notes": "# Notes"}}
	rn.answering(skills.answer)
	base := "/api/runners/" + rn.id + "/skills"

	r := e.do(t, call{method: "GET", path: base, cookie: ada.cookie})
	wantStatus(t, r, http.StatusOK)
	if got := decode[rest.SkillsResponse](t, r).Skills; len(got) != 1 || got[0].Name != "notes" || got[0].Description != "Take notes" {
		t.Fatalf("skills %+v", got)
	}

	r = e.do(t, ada.as(call{method: "GET", path: base + "/notes"}))
	wantStatus(t, r, http.StatusOK)
	if got := decode[rest.SkillResponse](t, r); got.Name != "notes" || got.Content != "# Notes" {
		t.Fatalf("skill %+v", got)
	}
	wantError(t, e.do(t, ada.as(call{method: "GET", path: base + "/missing"})), http.StatusNotFound, "Skill not found")
	wantError(t, e.do(t, ada.as(call{method: "GET", path: base + "/Bad_Name"})), http.StatusBadRequest, "Invalid skill name")

	r = e.do(t, ada.as(call{method: "POST", path: base, body: `{"name":"release-notes","content":"# Release"}`}))
	wantStatus(t, r, http.StatusOK)
	if got := decode[rest.SkillsChangedResponse](t, r); !got.OK || len(got.Skills) != 2 {
		t.Fatalf("create %+v", got)
	}
	var created runner.CreateSkill
	if err := created.UnmarshalJSON(rn.last(t, runner.EventCreateSkill)); err != nil || created.Name != "release-notes" || created.Content != "# Release" {
		t.Errorf("create_skill %+v %v", created, err)
	}
	// The relay's cached list follows the runner's answer.
	if got := decode[rest.SkillsResponse](t, e.do(t, ada.as(call{method: "GET", path: base}))).Skills; len(got) != 2 {
		t.Errorf("skills after create %+v", got)
	}
	wantError(t, e.do(t, ada.as(call{method: "POST", path: base, body: `{"name":"release-notes","content":""}`})), http.StatusBadRequest, "Skill already exists")

	r = e.do(t, ada.as(call{method: "PUT", path: base + "/release-notes", body: `{"content":"# Release v2"}`}))
	wantStatus(t, r, http.StatusOK)
	decode[rest.SkillsChangedResponse](t, r)
	if got := decode[rest.SkillResponse](t, e.do(t, ada.as(call{method: "GET", path: base + "/release-notes"}))); got.Content != "# Release v2" {
		t.Errorf("after update %+v", got)
	}
	wantError(t, e.do(t, ada.as(call{method: "PUT", path: base + "/missing", body: `{"content":""}`})), http.StatusBadRequest, "Skill not found")
	wantError(t, e.do(t, ada.as(call{method: "PUT", path: base + "/Bad_Name", body: `{"content":""}`})), http.StatusBadRequest, "Invalid skill name")

	r = e.do(t, ada.as(call{method: "DELETE", path: base + "/notes"}))
	wantStatus(t, r, http.StatusOK)
	if got := decode[rest.SkillsChangedResponse](t, r); len(got.Skills) != 1 || got.Skills[0].Name != "release-notes" {
		t.Fatalf("delete %+v", got)
	}
	wantError(t, e.do(t, ada.as(call{method: "DELETE", path: base + "/notes"})), http.StatusNotFound, "Skill not found")
}

func TestSkillCommandTimeout(t *testing.T) {
	e := newEnv(t, func(o *options) { o.core.RequestTimeout = 200 * time.Millisecond })
	ada := e.newUser(t, "Ada")
	rn := e.connectRunner(t, ada, nil, nil)
	rn.answering(func(string, []byte) answer { return answer{} })
	wantError(t, e.do(t, ada.as(call{method: "GET", path: "/api/runners/" + rn.id + "/skills/notes"})), http.StatusGatewayTimeout, "")
}
