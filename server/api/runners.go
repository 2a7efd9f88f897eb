package api

import (
	"net/http"
	"strings"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/core"
)

// runners is GET /api/runners: the caller's connected runners.
func (a *api) runners(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	list, err := a.Core.Runners(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, &rest.RunnersResponse{Runners: list})
	return nil
}

// spawn is POST /api/runners/spawn: start a session on a runner and wait briefly for its answer.
func (a *api) spawn(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	var req rest.SpawnRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	sr := core.SpawnRequest{RunnerID: req.RunnerID, Cwd: req.Cwd.Or(""), Prompt: req.Prompt.Or("")}
	if m, ok := req.Model.Get(); ok {
		m.Provider, m.ID = strings.TrimSpace(m.Provider), strings.TrimSpace(m.ID)
		if m.Provider != "" && m.ID != "" {
			sr.Model = &protocol.ModelInfo{Provider: m.Provider, ID: m.ID}
		}
	}
	res, err := a.Core.Spawn(r.Context(), u.ID, sr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, &rest.SpawnResponse{OK: true, RunnerID: res.RunnerID, SessionID: res.SessionID, Pending: res.Pending})
	return nil
}

// restart is POST /api/runners/restart.
func (a *api) restart(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	var req rest.RestartRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	if err := a.Core.RestartRunner(r.Context(), u.ID, req.RunnerID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, &rest.OkResponse{OK: true})
	return nil
}

// terminal is POST /api/runners/terminal: reserve a terminal; its PTY starts when a browser
// attaches on /terminal.
func (a *api) terminal(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	var req rest.TerminalRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	id, err := a.Core.CreateTerminal(r.Context(), u.ID, core.TerminalRequest{
		RunnerID: req.RunnerID,
		Cwd:      req.Cwd.Or(""),
		Cols:     int(req.Cols.Or(0)),
		Rows:     int(req.Rows.Or(0)),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, &rest.TerminalResponse{OK: true, TerminalID: id, RunnerID: req.RunnerID})
	return nil
}

// recentFolders is GET /api/runners/{id}/recent-folders.
func (a *api) recentFolders(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	folders, err := a.Core.RecentFolders(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, &rest.RecentFoldersResponse{Folders: folders})
	return nil
}
