package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/rest"
)

// listKeys returns the caller's keys, each checked against the contract's APIKey.
func listKeys(t *testing.T, e *env, u user) []rest.APIKey {
	t.Helper()
	r := e.do(t, call{method: "GET", path: "/api/auth/api-key/list", cookie: u.cookie})
	wantStatus(t, r, http.StatusOK)
	body := strings.TrimSpace(string(r.body))
	if !strings.HasPrefix(body, "[") || !strings.HasSuffix(body, "]") {
		t.Fatalf("list is not a JSON array: %s", body)
	}
	var keys []rest.APIKey
	if inner := strings.TrimSpace(body[1 : len(body)-1]); inner != "" {
		for _, raw := range splitObjects(t, inner) {
			var k rest.APIKey
			if err := k.UnmarshalJSON([]byte(raw)); err != nil {
				t.Fatalf("list entry %s does not match APIKey: %v", raw, err)
			}
			keys = append(keys, k)
		}
	}
	return keys
}

// splitObjects splits "{...},{...}" (objects without braces inside strings, as keys are) into
// the objects.
func splitObjects(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '{':
			if depth == 0 {
				start = i
			}
			depth++
		case '}':
			depth--
			if depth == 0 {
				out = append(out, s[start:i+1])
			}
		}
	}
	return out
}

func TestAPIKeysCreateListUseDelete(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.newUser(t, "Ada"), e.newUser(t, "Bob")

	before := listKeys(t, e, ada)
	if len(before) != 1 || before[0].Name == nil || *before[0].Name != "test" {
		t.Fatalf("keys before: %+v, want the one named test", before)
	}

	e.clock.advance(time.Minute)
	r := e.do(t, call{method: "POST", path: "/api/auth/api-key/create", cookie: ada.cookie, body: `{"name":" laptop ","prefix":"pzpe"}`})
	wantStatus(t, r, http.StatusOK)
	created := decode[rest.CreateAPIKeyResponse](t, r)
	if !strings.HasPrefix(created.Key, "pzp_") || created.Start == nil || !strings.HasPrefix(created.Key, *created.Start) {
		t.Fatalf("created key %q with start %v", created.Key, created.Start)
	}
	if created.Name == nil || *created.Name != "laptop" || created.LastRequest != nil || !created.Enabled {
		t.Errorf("created record: %+v", created)
	}

	keys := listKeys(t, e, ada)
	if len(keys) != 2 || keys[0].ID != created.ID {
		t.Fatalf("keys after create: %+v, want the new one first", keys)
	}
	if keys[0].LastRequest != nil {
		t.Errorf("an unused key lists lastRequest %v, want null", *keys[0].LastRequest)
	}
	for _, k := range keys {
		if strings.Contains(string(k.AppendJSON(nil)), created.Key) {
			t.Fatal("the list shows a whole key")
		}
	}

	// Using the key records its last use.
	e.clock.advance(time.Minute)
	wantStatus(t, e.do(t, call{method: "GET", path: "/api/sessions", key: created.Key}), http.StatusOK)
	keys = listKeys(t, e, ada)
	if keys[0].LastRequest == nil {
		t.Fatal("lastRequest still null after the key was used")
	}
	if used, err := time.Parse(time.RFC3339, *keys[0].LastRequest); err != nil || used.Before(time.Now().Add(-time.Hour)) {
		t.Errorf("lastRequest %q: %v", *keys[0].LastRequest, err)
	}

	// Bob can neither see nor delete Ada's keys.
	if got := listKeys(t, e, bob); len(got) != 1 || got[0].ID == created.ID {
		t.Errorf("Bob's keys: %+v", got)
	}
	wantError(t, e.do(t, call{method: "POST", path: "/api/auth/api-key/delete", cookie: bob.cookie, body: `{"keyId":"` + created.ID + `"}`}),
		http.StatusNotFound, "API key not found")
	wantStatus(t, e.do(t, call{method: "GET", path: "/api/sessions", key: created.Key}), http.StatusOK)

	r = e.do(t, call{method: "POST", path: "/api/auth/api-key/delete", cookie: ada.cookie, body: `{"keyId":"` + created.ID + `"}`})
	wantStatus(t, r, http.StatusOK)
	if got := decode[rest.DeleteAPIKeyResponse](t, r); !got.Success {
		t.Errorf("delete: %+v", got)
	}
	wantError(t, e.do(t, call{method: "GET", path: "/api/sessions", key: created.Key}), http.StatusUnauthorized, "Unauthorized")
	if got := listKeys(t, e, ada); len(got) != 1 {
		t.Errorf("keys after delete: %+v", got)
	}
	wantError(t, e.do(t, call{method: "POST", path: "/api/auth/api-key/delete", cookie: ada.cookie, body: `{"keyId":"` + created.ID + `"}`}),
		http.StatusNotFound, "API key not found")
}

func TestAPIKeysNeedTheBrowserSession(t *testing.T) {
	e := newEnv(t)
	ada := e.newUser(t, "Ada")
	for _, c := range []call{
		{method: "GET", path: "/api/auth/api-key/list"},
		{method: "POST", path: "/api/auth/api-key/create", body: `{}`},
		{method: "POST", path: "/api/auth/api-key/delete", body: `{"keyId":"x"}`},
	} {
		wantError(t, e.do(t, c), http.StatusUnauthorized, "Unauthorized")
		// An API key does not open them: a leaked key cannot mint or list keys.
		wantError(t, e.do(t, ada.as(c)), http.StatusUnauthorized, "Unauthorized")
	}
	if got := listKeys(t, e, ada); len(got) != 1 {
		t.Errorf("keys: %+v", got)
	}
}

func TestAPIKeysBadInput(t *testing.T) {
	e := newEnv(t)
	ada := e.newUser(t, "Ada")
	long := strings.Repeat("n", 101)
	for _, c := range []struct {
		path, body, pointer string
	}{
		{"/api/auth/api-key/create", `{"name":"` + long + `"}`, "/name"},
		{"/api/auth/api-key/create", `{"expires":1}`, ""},
		{"/api/auth/api-key/delete", `{}`, "/keyId"},
		{"/api/auth/api-key/delete", `{"keyId":""}`, "/keyId"},
	} {
		er := wantError(t, e.do(t, call{method: "POST", path: c.path, cookie: ada.cookie, body: c.body}), http.StatusBadRequest, "")
		if c.pointer != "" && er.Pointer.Or("") != c.pointer {
			t.Errorf("%s %s: pointer %q, want %q", c.path, c.body, er.Pointer.Or(""), c.pointer)
		}
	}
	if got := listKeys(t, e, ada); len(got) != 1 {
		t.Errorf("keys after bad input: %+v", got)
	}
}
