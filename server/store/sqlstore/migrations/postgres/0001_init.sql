CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
CREATE INDEX api_keys_user_name ON api_keys (user_id, name);

CREATE TABLE browser_sessions (
    token_hash BYTEA PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX browser_sessions_expires_at ON browser_sessions (expires_at);

CREATE TABLE relay_sessions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    user_name      TEXT NOT NULL,
    cwd            TEXT NOT NULL,
    share_url      TEXT NOT NULL,
    started_at     BIGINT NOT NULL,
    last_active_at BIGINT NOT NULL,
    ended_at       BIGINT,
    is_ephemeral   BOOLEAN NOT NULL,
    expires_at     BIGINT
);
CREATE INDEX relay_sessions_user_active ON relay_sessions (user_id, last_active_at);
CREATE INDEX relay_sessions_expires_at ON relay_sessions (expires_at);

CREATE TABLE relay_session_states (
    session_id TEXT PRIMARY KEY REFERENCES relay_sessions (id) ON DELETE CASCADE,
    state      BYTEA NOT NULL,
    saved_at   BIGINT NOT NULL
);

CREATE TABLE runners (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL,
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

CREATE TABLE recent_folders (
    runner_id TEXT NOT NULL,
    path      TEXT NOT NULL,
    used_at   BIGINT NOT NULL,
    PRIMARY KEY (runner_id, path)
);
CREATE INDEX recent_folders_runner_used ON recent_folders (runner_id, used_at);

CREATE TABLE attachments (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    filename   TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       BIGINT NOT NULL,
    path       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX attachments_expires_at ON attachments (expires_at);
