package api

import (
	"net/http"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/server/accounts"
)

// listSkills is GET /api/runners/{id}/skills: the skills the runner last reported.
func (a *api) listSkills(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	skills, err := a.Core.RunnerSkills(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, &rest.SkillsResponse{Skills: nonNil(skills)})
	return nil
}

// getSkill is GET /api/runners/{id}/skills/{name}: the skill's file, from the runner.
func (a *api) getSkill(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	name, err := skillName(r)
	if err != nil {
		return err
	}
	res, err := a.skillCommand(r, u, runner.EventGetSkill, func(id string) []byte {
		p := runner.GetSkill{RequestID: protocol.Some(id), Name: name}
		return p.AppendJSON(nil)
	})
	if err != nil {
		return err
	}
	if !res.OK {
		return skillFailure(res, http.StatusNotFound, "Skill not found")
	}
	writeJSON(w, http.StatusOK, &rest.SkillResponse{Name: res.Name.Or(name), Content: res.Content.Or("")})
	return nil
}

// createSkill is POST /api/runners/{id}/skills.
func (a *api) createSkill(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	var req rest.SkillRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	res, err := a.skillCommand(r, u, runner.EventCreateSkill, func(id string) []byte {
		p := runner.CreateSkill{RequestID: protocol.Some(id), Name: req.Name, Content: req.Content}
		return p.AppendJSON(nil)
	})
	return a.skillsChanged(w, res, err, http.StatusBadRequest, "Failed to create skill")
}

// updateSkill is PUT /api/runners/{id}/skills/{name}.
func (a *api) updateSkill(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	name, err := skillName(r)
	if err != nil {
		return err
	}
	var req rest.UpdateSkillRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	res, err := a.skillCommand(r, u, runner.EventUpdateSkill, func(id string) []byte {
		p := runner.UpdateSkill{RequestID: protocol.Some(id), Name: name, Content: req.Content}
		return p.AppendJSON(nil)
	})
	return a.skillsChanged(w, res, err, http.StatusBadRequest, "Failed to update skill")
}

// deleteSkill is DELETE /api/runners/{id}/skills/{name}.
func (a *api) deleteSkill(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	name, err := skillName(r)
	if err != nil {
		return err
	}
	res, err := a.skillCommand(r, u, runner.EventDeleteSkill, func(id string) []byte {
		p := runner.DeleteSkill{RequestID: protocol.Some(id), Name: name}
		return p.AppendJSON(nil)
	})
	return a.skillsChanged(w, res, err, http.StatusNotFound, "Skill not found")
}

// skillName returns the {name} path value, checked against the contract's SkillName (through the
// generated validation of the get_skill command).
func skillName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	p := runner.GetSkill{Name: name}
	if err := p.Validate(); err != nil {
		return "", errorf(http.StatusBadRequest, "Invalid skill name")
	}
	return name, nil
}

// skillCommand sends a skill command to the runner {id} and decodes its skill_result.
func (a *api) skillCommand(r *http.Request, u accounts.Account, event string, build func(requestID string) []byte) (*runner.SkillResult, error) {
	data, err := a.Core.RunnerCommand(r.Context(), u.ID, r.PathValue("id"), event, build, 0)
	if err != nil {
		return nil, err
	}
	var res runner.SkillResult
	if err := res.UnmarshalJSON(data); err != nil {
		a.Logger.Warn("runner sent an invalid skill_result", "runner", r.PathValue("id"), "error", err)
		return nil, errorf(http.StatusBadGateway, "Invalid reply from the runner")
	}
	return &res, nil
}

// skillsChanged answers a create, update or delete: the runner's skills, or failStatus with the
// runner's message (fallback when it gave none) when it refused.
func (a *api) skillsChanged(w http.ResponseWriter, res *runner.SkillResult, err error, failStatus int, fallback string) error {
	if err != nil {
		return err
	}
	if !res.OK {
		return skillFailure(res, failStatus, fallback)
	}
	writeJSON(w, http.StatusOK, &rest.SkillsChangedResponse{OK: true, Skills: nonNil(res.Skills.Or(nil))})
	return nil
}

// nonNil makes a nil list an empty one, so it encodes as [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// skillFailure is the error of a skill_result with ok:false: the runner's code and message, or,
// from a runner that sends no code (PizzaPi's daemon), failStatus with the message (fallback when
// it gave none).
func skillFailure(res *runner.SkillResult, failStatus int, fallback string) error {
	msg := res.Message.Or(fallback)
	if c, ok := res.Code.Get(); ok {
		return protocol.NewError(c, msg)
	}
	return errorf(failStatus, msg)
}
