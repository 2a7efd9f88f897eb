package sqlstore

import (
	"context"
	"strings"

	"github.com/pizzapi/pizzapi/server/store"
)

const userColumns = `id, email, name, password_hash, created_at`

func scanUser(row scanner) (store.User, error) {
	var u store.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &created); err != nil {
		return store.User{}, err
	}
	u.CreatedAt = fromMillis(created)
	return u, nil
}

// CreateUser adds an account, its email lower-cased; store.ErrExists when the email or id is taken.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		u.ID, strings.ToLower(u.Email), u.Name, u.PasswordHash, millis(u.CreatedAt))
	return s.wrap("create user", err)
}

// UserByEmail finds an account by email, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, strings.ToLower(email)))
	return u, s.wrap("user by email", err)
}

// UserByID finds an account by id.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	return u, s.wrap("user by id", err)
}
