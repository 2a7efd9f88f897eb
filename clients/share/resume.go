package share

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
	"github.com/pizzapi/pizzapi/protocol/piext"
)

// The exec commands that need more than one RPC command: list_resume_sessions and
// resume_session (pi's saved sessions, listed by PizzaPi's extension with pi's own
// SessionManager, switched to with pi's switch_session), mcp (the extension's MCP servers) and
// restart.

// extension returns the channel of PizzaPi's extension.
func (r *RPC) extension() (*extensionHost, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.host == nil {
		return nil, protocol.NewError(protocol.ErrorCodeUnsupported, "this needs PizzaPi's extension in the agent (share runs pi without --no-tools)")
	}
	return r.host, nil
}

// Mcp implements commands.Handler: the extension reports its MCP servers (after reloading them
// for "reload").
func (r *RPC) Mcp(ctx context.Context, p *commands.McpParams) (*commands.McpResult, error) {
	host, err := r.extension()
	if err != nil {
		return nil, err
	}
	action := piext.McpActionStatus
	if p.Action.Or(commands.McpActionStatus) == commands.McpActionReload {
		action = piext.McpActionReload
	}
	status, err := host.mcp(ctx, action)
	if err != nil {
		return nil, err
	}
	var res commands.McpResult
	if err := res.UnmarshalJSON(status); err != nil {
		return nil, fmt.Errorf("unexpected MCP status from the extension: %w", err)
	}
	return &res, nil
}

// savedSessions lists pi's saved sessions of the working directory, newest first, without the
// current one, and the current one's file (nil when it has none).
func (r *RPC) savedSessions(ctx context.Context) ([]piext.SavedSession, *string, error) {
	host, err := r.extension()
	if err != nil {
		return nil, nil, err
	}
	list, err := host.listSessions(ctx)
	if err != nil {
		return nil, nil, err
	}
	current, _ := list.CurrentPath.Get()
	all, _ := list.Sessions.Get()
	others := []piext.SavedSession{}
	for _, s := range all {
		if current == nil || s.Path != *current {
			others = append(others, s)
		}
	}
	return others, current, nil
}

// The page sizes of list_resume_sessions.
const (
	defaultResumePage = 50
	maxResumePage     = 200
)

// ListResumeSessions implements commands.Handler: a page of pi's saved sessions, newest first.
func (r *RPC) ListResumeSessions(ctx context.Context, p *commands.ListResumeSessionsParams) (*commands.ResumeSessionList, error) {
	sessions, current, err := r.savedSessions(ctx)
	if err != nil {
		return nil, err
	}
	page, next, err := resumePage(sessions, p)
	if err != nil {
		return nil, err
	}
	res := &commands.ResumeSessionList{CurrentPath: protocol.Some(current), Sessions: make([]commands.ResumeSession, len(page)), NextCursor: protocol.Some(next)}
	for i, s := range page {
		res.Sessions[i] = resumeSession(s)
	}
	return res, nil
}

// resumePage picks the page of sessions p asks for and the cursor of the next one (nil on the
// last). A cursor is the offset of its page in the list.
func resumePage(sessions []piext.SavedSession, p *commands.ListResumeSessionsParams) ([]piext.SavedSession, *string, error) {
	limit := int(min(max(p.Limit.Or(defaultResumePage), 1), maxResumePage))
	offset := 0
	if c, ok := p.Cursor.Get(); ok && c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return nil, nil, protocol.Errorf(protocol.ErrorCodeInvalid, "cursor %q is not one of list_resume_sessions", c)
		}
		offset = n
	}
	offset = min(offset, len(sessions))
	end := min(offset+limit, len(sessions))
	if end == len(sessions) {
		return sessions[offset:end], nil, nil
	}
	next := strconv.Itoa(end)
	return sessions[offset:end], &next, nil
}

// resumeSession is a saved session as list_resume_sessions reports it.
func resumeSession(s piext.SavedSession) commands.ResumeSession {
	return commands.ResumeSession{
		ID:           s.ID,
		Path:         s.Path,
		Name:         protocol.Some(s.Name),
		Modified:     protocol.Some(s.Modified),
		FirstMessage: protocol.Some(s.FirstMessage),
	}
}

// ResumeSession implements commands.Handler: the session at sessionPath, or the newest one whose
// id, path, name or first message contains query (the newest of all without either), switched to
// with pi's switch_session; a snapshot follows.
func (r *RPC) ResumeSession(ctx context.Context, p *commands.ResumeSessionParams) (*commands.ResumedSession, error) {
	sink, err := r.running()
	if err != nil {
		return nil, err
	}
	sessions, _, err := r.savedSessions(ctx)
	if err != nil {
		return nil, err
	}
	target := pickSession(sessions, p.SessionPath.Or(""), p.Query.Or(""))
	if target == nil {
		return nil, errors.New("No other sessions found to resume")
	}
	data, err := r.call(ctx, map[string]any{"type": "switch_session", "sessionPath": target.Path}, 0)
	if err != nil {
		return nil, err
	}
	var res struct {
		Cancelled bool `json:"cancelled"`
	}
	if json.Unmarshal(data, &res) == nil && res.Cancelled {
		return nil, errors.New("Resume was cancelled")
	}
	r.refresh(ctx, sink)
	return &commands.ResumedSession{Session: resumeSession(*target)}, nil
}

// pickSession chooses the session to resume (sessions are newest first).
func pickSession(sessions []piext.SavedSession, path, query string) *piext.SavedSession {
	query = strings.ToLower(strings.TrimSpace(query))
	for i, s := range sessions {
		switch {
		case path != "":
			if s.Path == path {
				return &sessions[i]
			}
		case query == "":
			return &sessions[i]
		default:
			name := ""
			if s.Name != nil {
				name = *s.Name
			}
			for _, field := range []string{s.ID, s.Path, name, s.FirstMessage} {
				if strings.Contains(strings.ToLower(field), query) {
					return &sessions[i]
				}
			}
		}
	}
	return nil
}

// restartDelay lets the answer to restart reach the viewer before the agent stops.
const restartDelay = 100 * time.Millisecond

// Restart implements commands.Handler: the agent restarts shortly (see Run).
func (r *RPC) Restart(context.Context, *commands.RestartParams) error {
	r.mu.Lock()
	restart := r.restart
	r.mu.Unlock()
	if restart == nil {
		return ErrNotRunning
	}
	time.AfterFunc(restartDelay, func() {
		select {
		case restart <- struct{}{}:
		default:
		}
	})
	return nil
}
