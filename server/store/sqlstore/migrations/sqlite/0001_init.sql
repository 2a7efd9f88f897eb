CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
CREATE INDEX api_keys_user_name ON api_keys (user_id, name);

CREATE TABLE browser_sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX browser_sessions_expires_at ON browser_sessions (expires_at);

CREATE TABLE relay_sessions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    user_name      TEXT NOT NULL,
    cwd            TEXT NOT NULL,
    share_url      TEXT NOT NULL,
    started_at     INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    ended_at       INTEGER,
    is_ephemeral   INTEGER NOT NULL,
    expires_at     INTEGER
);
CREATE INDEX relay_sessions_user_active ON relay_sessions (user_id, last_active_at);
CREATE INDEX relay_sessions_expires_at ON relay_sessions (expires_at);

CREATE TABLE relay_session_states (
    session_id TEXT PRIMARY KEY REFERENCES relay_sessions (id) ON DELETE CASCADE,
    state      BLOB NOT NULL,
    saved_at   INTEGER NOT NULL
);

CREATE TABLE runners (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    secret_hash  BLOB NOT NULL,
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);

CREATE TABLE recent_folders (
    runner_id TEXT NOT NULL,
    path      TEXT NOT NULL,
    used_at   INTEGER NOT NULL,
    PRIMARY KEY (runner_id, path)
);
CREATE INDEX recent_folders_runner_used ON recent_folders (runner_id, used_at);

CREATE TABLE attachments (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    filename   TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       INTEGER NOT NULL,
    path       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX attachments_expires_at ON attachments (expires_at);
