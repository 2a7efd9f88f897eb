// Package accounts signs users up and in and identifies the user behind an API key or a browser
// session cookie, on top of the durable store. Passwords are hashed with argon2id; API keys and
// session tokens are stored as SHA-256 hashes and shown to their owner once.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pizzapi/pizzapi/server/auth"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/store"
)

// CookieName is the browser session cookie.
const CookieName = "pizzapi_session"

// SessionTTL is how long a browser session lasts.
const SessionTTL = 30 * 24 * time.Hour

// Errors callers turn into HTTP statuses.
var (
	ErrBadCredentials = errors.New("invalid email or password")
	ErrSignupDisabled = errors.New("sign-up is disabled on this relay")
	ErrUnauthorized   = errors.New("unauthorized")
	// ErrBusy refuses a password check or hash when every hashing slot stayed taken for
	// HashWait: the node is at its limit of concurrent argon2id work (19 MiB each).
	ErrBusy = errors.New("too many password checks in progress")
)

// HashWait is how long a password check waits for a hashing slot before ErrBusy.
const HashWait = 2 * time.Second

// InputError is a request that cannot be accepted as it is (400).
type InputError struct{ Message string }

// Error returns the message.
func (e *InputError) Error() string { return e.Message }

// Accounts is the account service.
type Accounts struct {
	db            store.Store
	disableSignup bool
	now           func() time.Time
	// hashing holds a token per password hash or check in progress: argon2id takes 19 MiB and a
	// core's worth of work each, so a burst of logins or sign-ups must queue, not pile up.
	hashing chan struct{}
}

// New returns the account service; it runs as many password hashes at once as the machine has
// CPUs.
func New(db store.Store, disableSignup bool) *Accounts {
	return NewWithSlots(db, disableSignup, runtime.NumCPU())
}

// NewWithSlots returns the account service running at most slots password hashes at once.
func NewWithSlots(db store.Store, disableSignup bool, slots int) *Accounts {
	return &Accounts{db: db, disableSignup: disableSignup, now: time.Now, hashing: make(chan struct{}, max(slots, 1))}
}

// SignupDisabled reports whether new accounts are refused.
func (a *Accounts) SignupDisabled() bool { return a.disableSignup }

// hashSlot waits up to HashWait for a hashing slot and returns its release, or ErrBusy.
func (a *Accounts) hashSlot(ctx context.Context) (func(), error) {
	select {
	case a.hashing <- struct{}{}:
		return func() { <-a.hashing }, nil
	default:
	}
	t := time.NewTimer(HashWait)
	defer t.Stop()
	select {
	case a.hashing <- struct{}{}:
		return func() { <-a.hashing }, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hashPassword hashes within a hashing slot.
func (a *Accounts) hashPassword(ctx context.Context, password string) (string, error) {
	release, err := a.hashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return auth.HashPassword(password)
}

// checkPassword checks within a hashing slot.
func (a *Accounts) checkPassword(ctx context.Context, encoded, password string) (bool, error) {
	release, err := a.hashSlot(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return auth.CheckPassword(encoded, password)
}

// Account is a user as clients see it.
type Account struct {
	ID    string
	Email string
	Name  string
}

// User returns the core's view of an account.
func (a Account) User() core.User { return core.User{ID: a.ID, Name: a.Name} }

func account(u store.User) Account { return Account{ID: u.ID, Email: u.Email, Name: u.Name} }

// SignUp creates an account.
func (a *Accounts) SignUp(ctx context.Context, name, email, password string) (Account, error) {
	if a.disableSignup {
		return Account{}, ErrSignupDisabled
	}
	email, err := normalizeEmail(email)
	if err != nil {
		return Account{}, err
	}
	if len(password) < auth.MinPasswordLength {
		return Account{}, &InputError{fmt.Sprintf("password must be at least %d characters", auth.MinPasswordLength)}
	}
	if len(password) > auth.MaxPasswordLength {
		return Account{}, &InputError{fmt.Sprintf("password must be at most %d characters", auth.MaxPasswordLength)}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	if len(name) > 200 {
		return Account{}, &InputError{"name is too long"}
	}
	hash, err := a.hashPassword(ctx, password)
	if err != nil {
		return Account{}, err
	}
	u := store.User{ID: uuid.NewString(), Email: email, Name: name, PasswordHash: hash, CreatedAt: a.now()}
	if err := a.db.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrExists) {
			return Account{}, &InputError{"an account with this email exists already"}
		}
		return Account{}, err
	}
	return account(u), nil
}

// SignIn checks an email and password.
func (a *Accounts) SignIn(ctx context.Context, email, password string) (Account, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(password) > auth.MaxPasswordLength {
		return Account{}, ErrBadCredentials
	}
	u, err := a.db.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a real check, so response times do not reveal accounts.
		if _, err := a.checkPassword(ctx, dummyHash, password); err != nil {
			return Account{}, err
		}
		return Account{}, ErrBadCredentials
	}
	if err != nil {
		return Account{}, err
	}
	ok, err := a.checkPassword(ctx, u.PasswordHash, password)
	if err != nil {
		return Account{}, err
	}
	if !ok {
		return Account{}, ErrBadCredentials
	}
	return account(u), nil
}

var dummyHash, _ = auth.HashPassword("pizzapi-timing-equaliser")

// Register is PizzaPi's POST /api/register: it signs up (when the email is new and sign-up is
// allowed) or checks the password, then replaces the user's API key named "cli" with a fresh one.
// created reports whether an account was made. beforeSignUp, when not nil, is asked before an
// account is created (the sign-up limit) and its error returned.
func (a *Accounts) Register(ctx context.Context, name, email, password string, beforeSignUp func(context.Context) error) (key string, acc Account, created bool, err error) {
	acc, err = a.SignIn(ctx, email, password)
	if errors.Is(err, ErrBadCredentials) {
		norm, nerr := normalizeEmail(email)
		if nerr != nil {
			return "", Account{}, false, nerr
		}
		if _, lookup := a.db.UserByEmail(ctx, norm); errors.Is(lookup, store.ErrNotFound) {
			if beforeSignUp != nil && !a.disableSignup {
				if err := beforeSignUp(ctx); err != nil {
					return "", Account{}, false, err
				}
			}
			acc, err = a.SignUp(ctx, name, email, password)
			created = err == nil
		}
	}
	if err != nil {
		return "", Account{}, false, err
	}
	if _, err := a.db.DeleteAPIKeys(ctx, acc.ID, "cli"); err != nil {
		return "", Account{}, false, err
	}
	key, err = a.NewAPIKey(ctx, acc.ID, "cli")
	return key, acc, created, err
}

// NewAPIKey issues a key for a user; only its hash is kept.
func (a *Accounts) NewAPIKey(ctx context.Context, userID, name string) (string, error) {
	key, _, err := a.CreateAPIKey(ctx, userID, name)
	return key, err
}

// MaxAPIKeyName bounds the name of an API key.
const MaxAPIKeyName = 100

// CreateAPIKey issues a key for a user and returns it (to show once) with its record; only its
// hash is kept. The record's LastUsedAt stays zero until the key is used.
func (a *Accounts) CreateAPIKey(ctx context.Context, userID, name string) (string, store.APIKey, error) {
	name = strings.TrimSpace(name)
	if len(name) > MaxAPIKeyName {
		return "", store.APIKey{}, &InputError{fmt.Sprintf("the key's name must be at most %d characters", MaxAPIKeyName)}
	}
	key, prefix, hash := auth.NewAPIKey()
	k := store.APIKey{ID: uuid.NewString(), UserID: userID, Name: name, Prefix: prefix, Hash: hash, CreatedAt: a.now()}
	if err := a.db.CreateAPIKey(ctx, k); err != nil {
		return "", store.APIKey{}, err
	}
	return key, k, nil
}

// APIKeys lists a user's keys, newest first (their records: the keys themselves are not kept).
func (a *Accounts) APIKeys(ctx context.Context, userID string) ([]store.APIKey, error) {
	return a.db.APIKeys(ctx, userID)
}

// DeleteAPIKey deletes one of a user's keys; store.ErrNotFound when the user has none with this
// id.
func (a *Accounts) DeleteAPIKey(ctx context.Context, userID, id string) error {
	return a.db.DeleteAPIKey(ctx, userID, id)
}

// ByAPIKey identifies the owner of an API key.
func (a *Accounts) ByAPIKey(ctx context.Context, key string) (Account, error) {
	if key == "" || len(key) > 512 {
		return Account{}, ErrUnauthorized
	}
	u, _, err := a.db.UserByAPIKey(ctx, auth.HashSecret(key), a.now())
	if errors.Is(err, store.ErrNotFound) {
		return Account{}, ErrUnauthorized
	}
	if err != nil {
		return Account{}, err
	}
	return account(u), nil
}

// NewSession starts a browser session and returns its cookie.
func (a *Accounts) NewSession(ctx context.Context, userID string, secure bool) (*http.Cookie, error) {
	token, hash := auth.NewSessionToken()
	expires := a.now().Add(SessionTTL)
	if err := a.db.CreateBrowserSession(ctx, hash, userID, expires); err != nil {
		return nil, err
	}
	return &http.Cookie{Name: CookieName, Value: token, Path: "/", Expires: expires, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}, nil
}

// BySession identifies the user of a request's browser session cookie.
func (a *Accounts) BySession(ctx context.Context, r *http.Request) (Account, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 256 {
		return Account{}, ErrUnauthorized
	}
	u, err := a.db.UserByBrowserSession(ctx, auth.HashSecret(c.Value), a.now())
	if errors.Is(err, store.ErrNotFound) {
		return Account{}, ErrUnauthorized
	}
	if err != nil {
		return Account{}, err
	}
	return account(u), nil
}

// EndSession ends the browser session of a request and returns the cookie that clears it.
func (a *Accounts) EndSession(ctx context.Context, r *http.Request, secure bool) (*http.Cookie, error) {
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		if err := a.db.DeleteBrowserSession(ctx, auth.HashSecret(c.Value)); err != nil {
			return nil, err
		}
	}
	return &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}, nil
}

// NormalizeEmail returns the form of an email address accounts are kept under (lower case, no
// surrounding space), the key of its login limits.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func normalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 320 {
		return "", &InputError{"a valid email address is required"}
	}
	return email, nil
}
