package sqlstore

import (
	"context"
	"database/sql"

	"github.com/pizzapi/pizzapi/server/store"
)

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
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_subscriptions (`+pushColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (user_id, endpoint) DO UPDATE SET id = excluded.id, p256dh = excluded.p256dh,
				auth = excluded.auth, enabled_events = excluded.enabled_events, created_at = excluded.created_at`,
			p.ID, p.UserID, p.Endpoint, p.P256DH, p.Auth, p.EnabledEvents, millis(p.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE user_id = $1 AND id NOT IN (
			SELECT id FROM push_subscriptions WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)`,
			p.UserID, max)
		return err
	})
	return s.wrap("save push subscription", err)
}

// PushSubscriptions implements store.PushStore.
func (s *Store) PushSubscriptions(ctx context.Context, userID string) ([]store.PushSubscription, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE user_id = $1
		ORDER BY created_at, id`, userID)
	subs, err := collect(rows, err, scanPushSubscription)
	return subs, s.wrap("push subscriptions", err)
}

// DeletePushSubscription implements store.PushStore.
func (s *Store) DeletePushSubscription(ctx context.Context, userID, endpoint string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2`, userID, endpoint)
	return s.affected("delete push subscription", res, err)
}

// DeletePushSubscriptionByID implements store.PushStore.
func (s *Store) DeletePushSubscriptionByID(ctx context.Context, id string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE id = $1`, id)
	return s.wrap("delete push subscription", err)
}

// SetPushEvents implements store.PushStore.
func (s *Store) SetPushEvents(ctx context.Context, userID, endpoint, events string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE push_subscriptions SET enabled_events = $1 WHERE user_id = $2 AND endpoint = $3`,
		events, userID, endpoint)
	return s.affected("set push events", res, err)
}

// EnsureVAPIDKeys implements store.PushStore. Nodes starting together race on the insert; the
// primary key lets one win, and each reads the winner.
func (s *Store) EnsureVAPIDKeys(ctx context.Context, k store.VAPIDKeys) (store.VAPIDKeys, error) {
	var out store.VAPIDKeys
	err := inTx(ctx, s.write, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO vapid_keys (id, public_key, private_key, created_at) VALUES (1, $1, $2, $3)
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
	return out, s.wrap("ensure VAPID keys", err)
}
