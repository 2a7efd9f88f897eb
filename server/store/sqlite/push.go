package sqlite

import (
	"context"
	"database/sql"

	"github.com/pizzapi/pizzapi/server/store"
)

var _ store.PushStore = (*Store)(nil)

const pushColumns = `id, user_id, endpoint, p256dh, auth, enabled_events, created_at`

func scanPushSubscription(row scanner) (store.PushSubscription, error) {
	var p store.PushSubscription
	var created int64
	if err := row.Scan(&p.ID, &p.UserID, &p.Endpoint, &p.P256DH, &p.Auth, &p.EnabledEvents, &created); err != nil {
		return store.PushSubscription{}, err
	}
	p.CreatedAt = fromMillis(created)
	return p, nil
}

// SavePushSubscription implements store.PushStore.
func (s *Store) SavePushSubscription(ctx context.Context, p store.PushSubscription, max int) error {
	err := inTx(ctx, s.write, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_subscriptions (`+pushColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id, endpoint) DO UPDATE SET id = excluded.id, p256dh = excluded.p256dh,
				auth = excluded.auth, enabled_events = excluded.enabled_events, created_at = excluded.created_at`,
			p.ID, p.UserID, p.Endpoint, p.P256DH, p.Auth, p.EnabledEvents, millis(p.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE user_id = ? AND id NOT IN (
			SELECT id FROM push_subscriptions WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?)`,
			p.UserID, p.UserID, max)
		return err
	})
	return wrap("save push subscription", err)
}

// PushSubscriptions implements store.PushStore.
func (s *Store) PushSubscriptions(ctx context.Context, userID string) ([]store.PushSubscription, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE user_id = ?
		ORDER BY created_at, id`, userID)
	subs, err := collect(rows, err, scanPushSubscription)
	return subs, wrap("push subscriptions", err)
}

// DeletePushSubscription implements store.PushStore.
func (s *Store) DeletePushSubscription(ctx context.Context, userID, endpoint string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?`, userID, endpoint)
	return affected(res, err, "delete push subscription")
}

// DeletePushSubscriptionByID implements store.PushStore.
func (s *Store) DeletePushSubscriptionByID(ctx context.Context, id string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE id = ?`, id)
	return wrap("delete push subscription", err)
}

// SetPushEvents implements store.PushStore.
func (s *Store) SetPushEvents(ctx context.Context, userID, endpoint, events string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE push_subscriptions SET enabled_events = ? WHERE user_id = ? AND endpoint = ?`,
		events, userID, endpoint)
	return affected(res, err, "set push events")
}

// EnsureVAPIDKeys implements store.PushStore.
func (s *Store) EnsureVAPIDKeys(ctx context.Context, k store.VAPIDKeys) (store.VAPIDKeys, error) {
	var out store.VAPIDKeys
	err := inTx(ctx, s.write, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO vapid_keys (id, public_key, private_key, created_at) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, k.PublicKey, k.PrivateKey, millis(k.CreatedAt)); err != nil {
			return err
		}
		var created int64
		if err := tx.QueryRowContext(ctx, `SELECT public_key, private_key, created_at FROM vapid_keys WHERE id = 1`).
			Scan(&out.PublicKey, &out.PrivateKey, &created); err != nil {
			return err
		}
		out.CreatedAt = fromMillis(created)
		return nil
	})
	return out, wrap("ensure VAPID keys", err)
}

// affected reports whether a statement changed a row.
func affected(res sql.Result, err error, op string) (bool, error) {
	if err != nil {
		return false, wrap(op, err)
	}
	n, err := res.RowsAffected()
	return n > 0, wrap(op, err)
}
