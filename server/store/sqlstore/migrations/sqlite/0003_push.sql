-- Web Push subscriptions: one per user and browser endpoint.
CREATE TABLE push_subscriptions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint       TEXT NOT NULL,
    p256dh         TEXT NOT NULL,
    auth           TEXT NOT NULL,
    enabled_events TEXT NOT NULL DEFAULT '*',
    created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX push_subscriptions_user_endpoint ON push_subscriptions (user_id, endpoint);

-- The relay's VAPID key pair, shared by every node (one row).
CREATE TABLE vapid_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    public_key  TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
