package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// APIKeyPrefix starts every API key, so that a leaked key is easy to recognise.
const APIKeyPrefix = "pzp_"

// NewAPIKey returns a fresh API key (shown to the user once), a short prefix to list it by, and
// the hash to store.
func NewAPIKey() (key, prefix string, hash []byte) {
	key = APIKeyPrefix + randomHex(32)
	return key, key[:len(APIKeyPrefix)+6], HashSecret(key)
}

// NewSessionToken returns a fresh browser-session token for the cookie and the hash to store.
func NewSessionToken() (token string, hash []byte) {
	token = randomHex(32)
	return token, HashSecret(token)
}

// NewToken returns n random bytes as hex: registration tokens, runner secrets, ids.
func NewToken(n int) string { return randomHex(n) }

// HashSecret hashes a high-entropy secret (API key, session token, runner secret) for storage.
// These secrets are random, so a fast hash is enough; passwords use HashPassword instead.
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
