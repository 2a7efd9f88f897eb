package auth

import (
	"bytes"
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h, "correct horse") || !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("unexpected hash %q", h)
	}
	h2, _ := HashPassword("correct horse")
	if h == h2 {
		t.Fatal("two hashes of the same password are equal: no salt?")
	}
	if ok, err := CheckPassword(h, "correct horse"); !ok || err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if ok, _ := CheckPassword(h, "wrong horse"); ok {
		t.Fatal("wrong password accepted")
	}
	if _, err := CheckPassword("plain", "x"); err != ErrMalformedHash {
		t.Fatalf("malformed hash: %v", err)
	}
}

func TestAPIKey(t *testing.T) {
	k1, p1, h1 := NewAPIKey()
	k2, _, h2 := NewAPIKey()
	if k1 == k2 || bytes.Equal(h1, h2) {
		t.Fatal("keys repeat")
	}
	if !strings.HasPrefix(k1, APIKeyPrefix) || !strings.HasPrefix(k1, p1) || len(k1) != len(APIKeyPrefix)+64 {
		t.Fatalf("key %q prefix %q", k1, p1)
	}
	if !bytes.Equal(HashSecret(k1), h1) {
		t.Fatal("hash does not match")
	}
}
