package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/pizzapi/pizzapi/server/store"
)

const attachmentColumns = `id, session_id, user_id, filename, media_type, size, path, created_at, expires_at`

const insertAttachment = `INSERT INTO attachments (` + attachmentColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// attachmentArgs are the arguments of insertAttachment.
func attachmentArgs(a store.Attachment) []any {
	return []any{a.ID, a.SessionID, a.UserID, a.Filename, a.MediaType, a.Size, a.Path, millis(a.CreatedAt), millis(a.ExpiresAt)}
}

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

// attachmentBytes sums the sizes of the user's attachments that have not expired at now. SUM of a
// BIGINT is a NUMERIC on PostgreSQL: the cast makes it an integer on both engines.
const attachmentBytes = `SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM attachments WHERE user_id = $1 AND expires_at > $2`

// SaveAttachment stores an attachment record; store.ErrExists when its id is taken.
func (s *Store) SaveAttachment(ctx context.Context, a store.Attachment) error {
	_, err := s.write.ExecContext(ctx, insertAttachment, attachmentArgs(a)...)
	return s.wrap("save attachment", err)
}

// SaveAttachments stores the records of one upload within the user's quota, in one transaction
// that excludes the user's other uploads (on any node), so that concurrent uploads are counted one
// after the other.
func (s *Store) SaveAttachments(ctx context.Context, userID string, atts []store.Attachment, quota int64, now time.Time) error {
	return s.wrap("save attachments", inTx(ctx, s.write, func(tx *sql.Tx) error {
		if quota > 0 {
			if err := s.lock(ctx, tx, "pizzapi:attachments:"+userID); err != nil {
				return err
			}
			var used int64
			if err := tx.QueryRowContext(ctx, attachmentBytes, userID, millis(now)).Scan(&used); err != nil {
				return err
			}
			for _, a := range atts {
				used += a.Size
			}
			if used > quota {
				return store.ErrQuota
			}
		}
		for _, a := range atts {
			if _, err := tx.ExecContext(ctx, insertAttachment, attachmentArgs(a)...); err != nil {
				return err
			}
		}
		return nil
	}))
}

// AttachmentBytes returns the total size of the user's attachments that have not expired at now.
func (s *Store) AttachmentBytes(ctx context.Context, userID string, now time.Time) (int64, error) {
	var used int64
	err := s.read.QueryRowContext(ctx, attachmentBytes, userID, millis(now)).Scan(&used)
	return used, s.wrap("attachment bytes", err)
}

// Attachment returns an attachment record, also when it has expired (callers check).
func (s *Store) Attachment(ctx context.Context, id string) (store.Attachment, error) {
	a, err := scanAttachment(s.read.QueryRowContext(ctx, `SELECT `+attachmentColumns+` FROM attachments WHERE id = $1`, id))
	return a, s.wrap("attachment", err)
}

// DeleteExpiredAttachments removes the records that expire at or before now and returns them, so
// the caller can delete their files.
func (s *Store) DeleteExpiredAttachments(ctx context.Context, now time.Time) ([]store.Attachment, error) {
	rows, err := s.write.QueryContext(ctx, `DELETE FROM attachments WHERE expires_at <= $1 RETURNING `+attachmentColumns, millis(now))
	attachments, err := collect(rows, err, scanAttachment)
	return attachments, s.wrap("delete expired attachments", err)
}
