package sqlstore

import (
	"context"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

const relaySessionColumns = `id, user_id, user_name, cwd, share_url, started_at, last_active_at, ended_at, is_ephemeral, expires_at, seq_reserved`

func scanRelaySession(row scanner) (store.RelaySession, error) {
	var rs store.RelaySession
	var started, active int64
	var ended, expires *int64
	if err := row.Scan(&rs.ID, &rs.UserID, &rs.UserName, &rs.Cwd, &rs.ShareURL, &started, &active, &ended,
		&rs.IsEphemeral, &expires, &rs.SeqReserved); err != nil {
		return store.RelaySession{}, err
	}
	rs.StartedAt, rs.LastActiveAt = fromMillis(started), fromMillis(active)
	rs.EndedAt, rs.ExpiresAt = fromNullMillis(ended), fromNullMillis(expires)
	return rs, nil
}

// SaveRelaySession inserts a session record or, when one with this id exists, replaces all its
// fields but the reserved sequence number, which only grows (its snapshot is kept).
func (s *Store) SaveRelaySession(ctx context.Context, rs store.RelaySession) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO relay_sessions (`+relaySessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, user_name = excluded.user_name,
			cwd = excluded.cwd, share_url = excluded.share_url, started_at = excluded.started_at,
			last_active_at = excluded.last_active_at, ended_at = excluded.ended_at,
			is_ephemeral = excluded.is_ephemeral, expires_at = excluded.expires_at,
			seq_reserved = CASE WHEN excluded.seq_reserved > relay_sessions.seq_reserved
				THEN excluded.seq_reserved ELSE relay_sessions.seq_reserved END`,
		rs.ID, rs.UserID, rs.UserName, rs.Cwd, rs.ShareURL, millis(rs.StartedAt), millis(rs.LastActiveAt),
		nullMillis(rs.EndedAt), rs.IsEphemeral, nullMillis(rs.ExpiresAt), rs.SeqReserved)
	return s.wrap("save relay session", err)
}

// TouchRelaySession sets the session's last activity and expiry (nil: none).
func (s *Store) TouchRelaySession(ctx context.Context, id string, lastActiveAt time.Time, expiresAt *time.Time) error {
	return s.wrap("touch relay session", changed(s.write.ExecContext(ctx,
		`UPDATE relay_sessions SET last_active_at = $1, expires_at = $2 WHERE id = $3`,
		millis(lastActiveAt), nullMillis(expiresAt), id)))
}

// EndRelaySession marks a session ended at endedAt, with a new expiry (nil: never expires).
func (s *Store) EndRelaySession(ctx context.Context, id string, endedAt time.Time, expiresAt *time.Time) error {
	return s.wrap("end relay session", changed(s.write.ExecContext(ctx,
		`UPDATE relay_sessions SET ended_at = $1, expires_at = $2 WHERE id = $3`,
		millis(endedAt), nullMillis(expiresAt), id)))
}

// ReserveRelaySessionSeq raises the session's reserved sequence number to seq.
func (s *Store) ReserveRelaySessionSeq(ctx context.Context, id string, seq int64) error {
	return s.wrap("reserve relay session seq", changed(s.write.ExecContext(ctx,
		`UPDATE relay_sessions SET seq_reserved = CASE WHEN $1 > seq_reserved THEN $1 ELSE seq_reserved END
		WHERE id = $2`, seq, id)))
}

// RelaySession returns one session record.
func (s *Store) RelaySession(ctx context.Context, id string) (store.RelaySession, error) {
	rs, err := scanRelaySession(s.read.QueryRowContext(ctx,
		`SELECT `+relaySessionColumns+` FROM relay_sessions WHERE id = $1`, id))
	return rs, s.wrap("relay session", err)
}

// ListRelaySessions returns the user's sessions that expire after now (or never), most recently
// active first, at most limit.
func (s *Store) ListRelaySessions(ctx context.Context, userID string, now time.Time, limit int) ([]store.RelaySession, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+relaySessionColumns+` FROM relay_sessions
		WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > $2)
		ORDER BY last_active_at DESC, id LIMIT $3`, userID, millis(now), limit)
	sessions, err := collect(rows, err, scanRelaySession)
	return sessions, s.wrap("list relay sessions", err)
}

// PruneRelaySessions deletes the sessions (and their snapshots) that expire at or before now and
// returns their ids.
func (s *Store) PruneRelaySessions(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.write.QueryContext(ctx, `DELETE FROM relay_sessions WHERE expires_at <= $1 RETURNING id`, millis(now))
	ids, err := collect(rows, err, scanString)
	return ids, s.wrap("prune relay sessions", err)
}

// SaveSessionState stores the latest snapshot of a session, replacing the previous one;
// store.ErrNotFound when the session does not exist.
func (s *Store) SaveSessionState(ctx context.Context, sessionID string, state []byte, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO relay_session_states (session_id, state, saved_at) VALUES ($1, $2, $3)
		ON CONFLICT (session_id) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at`,
		sessionID, state, millis(at))
	return s.wrap("save session state", err)
}

// SessionState returns the latest snapshot of a session; store.ErrNotFound when there is none.
func (s *Store) SessionState(ctx context.Context, sessionID string) ([]byte, error) {
	var state []byte
	err := s.read.QueryRowContext(ctx, `SELECT state FROM relay_session_states WHERE session_id = $1`, sessionID).Scan(&state)
	if err != nil {
		return nil, s.wrap("session state", err)
	}
	return state, nil
}
