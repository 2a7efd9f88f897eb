package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pizzapi/pizzapi/server/store"
)

const attachmentColumns = `id, session_id, user_id, filename, media_type, size, path, created_at, expires_at`

func scanAttachment(row pgx.Row) (store.Attachment, error) {
	var a store.Attachment
	var created, expires int64
	if err := row.Scan(&a.ID, &a.SessionID, &a.UserID, &a.Filename, &a.MediaType, &a.Size, &a.Path,
		&created, &expires); err != nil {
		return store.Attachment{}, err
	}
	a.CreatedAt, a.ExpiresAt = fromMillis(created), fromMillis(expires)
	return a, nil
}

// SaveAttachment stores an attachment record; store.ErrExists when its id is taken.
func (s *Store) SaveAttachment(ctx context.Context, a store.Attachment) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO attachments (`+attachmentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.ID, a.SessionID, a.UserID, a.Filename, a.MediaType, a.Size, a.Path, millis(a.CreatedAt), millis(a.ExpiresAt))
	return wrap("save attachment", err)
}

// Attachment returns an attachment record, also when it has expired (callers check).
func (s *Store) Attachment(ctx context.Context, id string) (store.Attachment, error) {
	a, err := scanAttachment(s.pool.QueryRow(ctx, `SELECT `+attachmentColumns+` FROM attachments WHERE id = $1`, id))
	return a, wrap("attachment", err)
}

// DeleteExpiredAttachments removes the records that expire at or before now and returns them, so
// the caller can delete their files.
func (s *Store) DeleteExpiredAttachments(ctx context.Context, now time.Time) ([]store.Attachment, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM attachments WHERE expires_at <= $1 RETURNING `+attachmentColumns, millis(now))
	attachments, err := collect(rows, err, scanAttachment)
	return attachments, wrap("delete expired attachments", err)
}
