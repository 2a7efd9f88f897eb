package sqlite

import (
	"context"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

const attachmentColumns = `id, session_id, user_id, filename, media_type, size, path, created_at, expires_at`

func scanAttachment(row scanner) (store.Attachment, error) {
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
	_, err := s.write.ExecContext(ctx, `INSERT INTO attachments (`+attachmentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.SessionID, a.UserID, a.Filename, a.MediaType, a.Size, a.Path, millis(a.CreatedAt), millis(a.ExpiresAt))
	return wrap("save attachment", err)
}

// Attachment returns an attachment record, also when it has expired (callers check).
func (s *Store) Attachment(ctx context.Context, id string) (store.Attachment, error) {
	a, err := scanAttachment(s.read.QueryRowContext(ctx, `SELECT `+attachmentColumns+` FROM attachments WHERE id = ?`, id))
	return a, wrap("attachment", err)
}

// DeleteExpiredAttachments removes the records that expire at or before now and returns them, so
// the caller can delete their files.
func (s *Store) DeleteExpiredAttachments(ctx context.Context, now time.Time) ([]store.Attachment, error) {
	rows, err := s.write.QueryContext(ctx, `DELETE FROM attachments WHERE expires_at <= ? RETURNING `+attachmentColumns, millis(now))
	attachments, err := collect(rows, err, scanAttachment)
	return attachments, wrap("delete expired attachments", err)
}
