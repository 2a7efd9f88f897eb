package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pizzapi/pizzapi/server/store"
)

var _ store.PushStore = (*Store)(nil)

const pushColumns = `id, user_id, endpoint, p256dh, auth, enabled_events, created_at`

func scanPushSubscription(row pgx.Row) (store.PushSubscription, error) {
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO push_subscriptions (`+pushColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (user_id, endpoint) DO UPDATE SET id = excluded.id, p256dh = excluded.p256dh,
				auth = excluded.auth, enabled_events = excluded.enabled_events, created_at = excluded.created_at`,
			p.ID, p.UserID, p.Endpoint, p.P256DH, p.Auth, p.EnabledEvents, millis(p.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE user_id = $1 AND id NOT IN (
			SELECT id FROM push_subscriptions WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)`,
			p.UserID, max)
		return err
	})
	return wrap("save push subscription", err)
}

// PushSubscriptions implements store.PushStore.
func (s *Store) PushSubscriptions(ctx context.Context, userID string) ([]store.PushSubscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE user_id = $1
		ORDER BY created_at, id`, userID)
	subs, err := collect(rows, err, scanPushSubscription)
	return subs, wrap("push subscriptions", err)
}

// DeletePushSubscription implements store.PushStore.
func (s *Store) DeletePushSubscription(ctx context.Context, userID, endpoint string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2`, userID, endpoint)
	return affected(tag, err, "delete push subscription")
}

// DeletePushSubscriptionByID implements store.PushStore.
func (s *Store) DeletePushSubscriptionByID(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE id = $1`, id)
	return wrap("delete push subscription", err)
}

// SetPushEvents implements store.PushStore.
func (s *Store) SetPushEvents(ctx context.Context, userID, endpoint, events string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE push_subscriptions SET enabled_events = $1 WHERE user_id = $2 AND endpoint = $3`,
		events, userID, endpoint)
	return affected(tag, err, "set push events")
}

// EnsureVAPIDKeys implements store.PushStore. Nodes starting together race on the insert; the
// primary key lets one win and every node reads the winner.
func (s *Store) EnsureVAPIDKeys(ctx context.Context, k store.VAPIDKeys) (store.VAPIDKeys, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO vapid_keys (id, public_key, private_key, created_at) VALUES (1, $1, $2, $3)
		ON CONFLICT (id) DO NOTHING`, k.PublicKey, k.PrivateKey, millis(k.CreatedAt)); err != nil {
		return store.VAPIDKeys{}, wrap("ensure VAPID keys", err)
	}
	var out store.VAPIDKeys
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT public_key, private_key, created_at FROM vapid_keys WHERE id = 1`).
		Scan(&out.PublicKey, &out.PrivateKey, &created)
	out.CreatedAt = fromMillis(created)
	return out, wrap("ensure VAPID keys", err)
}

// affected reports whether a statement changed a row.
func affected(tag pgconn.CommandTag, err error, op string) (bool, error) {
	if err != nil {
		return false, wrap(op, err)
	}
	return tag.RowsAffected() > 0, nil
}
