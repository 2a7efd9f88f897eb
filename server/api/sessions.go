package api

import (
	"net/http"
	"time"

	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/live"
)

// sessions is GET /api/sessions: the caller's live sessions and recent durable records.
func (a *api) sessions(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	current, err := a.Core.Sessions(r.Context(), u.ID)
	if err != nil {
		return err
	}
	records, err := a.Core.PersistedSessions(r.Context(), u.ID)
	if err != nil {
		return err
	}
	resp := rest.SessionsResponse{Sessions: current, PersistedSessions: make([]rest.PersistedSession, 0, len(records))}
	for _, s := range records {
		resp.PersistedSessions = append(resp.PersistedSessions, rest.PersistedSession{
			SessionID:    s.ID,
			Cwd:          s.Cwd,
			ShareURL:     s.ShareURL,
			StartedAt:    live.FormatTime(s.StartedAt),
			LastActiveAt: live.FormatTime(s.LastActiveAt),
			EndedAt:      optionalTime(s.EndedAt),
			IsEphemeral:  s.IsEphemeral,
			ExpiresAt:    optionalTime(s.ExpiresAt),
		})
	}
	writeJSON(w, http.StatusOK, &resp)
	return nil
}

// optionalTime formats a time that may be unset (JSON null).
func optionalTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := live.FormatTime(*t)
	return &s
}
