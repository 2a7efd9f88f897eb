package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// endpoints lists every endpoint that needs a signed-in caller, with a valid body.
var endpoints = []call{
	{method: "GET", path: "/api/sessions"},
	{method: "POST", path: "/api/sessions/s1/attachments", contentType: "multipart/form-data; boundary=x", body: "--x--\r\n"},
	{method: "GET", path: "/api/attachments/a1"},
	{method: "GET", path: "/api/runners"},
	{method: "POST", path: "/api/runners/spawn", body: `{"runnerId":"r1"}`},
	{method: "POST", path: "/api/runners/restart", body: `{"runnerId":"r1"}`},
	{method: "POST", path: "/api/runners/terminal", body: `{"runnerId":"r1"}`},
	{method: "GET", path: "/api/runners/r1/recent-folders"},
	{method: "GET", path: "/api/runners/r1/skills"},
	{method: "POST", path: "/api/runners/r1/skills", body: `{"name":"x","content":""}`},
	{method: "GET", path: "/api/runners/r1/skills/x"},
	{method: "PUT", path: "/api/runners/r1/skills/x", body: `{"content":""}`},
	{method: "DELETE", path: "/api/runners/r1/skills/x"},
	{method: "POST", path: "/api/runners/r1/files", body: `{"path":"/"}`},
	{method: "POST", path: "/api/runners/r1/read-file", body: `{"path":"/x"}`},
	{method: "POST", path: "/api/runners/r1/git-status", body: `{"cwd":"/"}`},
	{method: "POST", path: "/api/runners/r1/git-diff", body: `{"cwd":"/","path":"x"}`},
}

func TestEveryEndpointNeedsCredentials(t *testing.T) {
	e := newEnv(t)
	for _, c := range endpoints {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			wantError(t, e.do(t, c), http.StatusUnauthorized, "Unauthorized")
			c.key = "pzp_not-a-key"
			wantError(t, e.do(t, c), http.StatusUnauthorized, "Unauthorized")
			c.key = ""
			c.cookie = &http.Cookie{Name: "pizzapi_session", Value: "forged"}
			wantError(t, e.do(t, c), http.StatusUnauthorized, "Unauthorized")
		})
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t, "Ada")
	wantError(t, e.do(t, call{method: "GET", path: "/api/nope"}), http.StatusNotFound, "Not found")
	wantError(t, e.do(t, u.as(call{method: "GET", path: "/api/runners/r1/nope"})), http.StatusNotFound, "Not found")
	r := e.do(t, call{method: "DELETE", path: "/api/runners"})
	wantError(t, r, http.StatusMethodNotAllowed, "")
	if r.header.Get("Allow") != "GET" {
		t.Errorf("Allow %q, want GET", r.header.Get("Allow"))
	}
	r = e.do(t, call{method: "PATCH", path: "/api/runners/r1/skills/x"})
	wantError(t, r, http.StatusMethodNotAllowed, "")
	if r.header.Get("Allow") != "GET, PUT, DELETE" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	wantError(t, e.do(t, call{method: "GET", path: "/api/register"}), http.StatusMethodNotAllowed, "")
}

func TestInvalidBodiesNameThePointer(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t, "Ada")
	for _, tc := range []struct {
		path, body, pointer string
	}{
		{"/api/runners/spawn", `{}`, "/runnerId"},
		{"/api/runners/spawn", `{"runnerId":5}`, "/runnerId"},
		{"/api/runners/spawn", `{"runnerId":"r1","extra":true}`, "/extra"},
		{"/api/runners/spawn", `{"runnerId":"r1","model":{"provider":"anthropic"}}`, "/model/id"},
		{"/api/runners/terminal", `{"runnerId":"r1","cols":0}`, "/cols"},
		{"/api/runners/r1/read-file", `{"path":"/x","encoding":"latin1"}`, "/encoding"},
		{"/api/runners/r1/skills", `{"name":"Bad Name","content":""}`, "/name"},
		{"/api/runners/r1/git-diff", `{"cwd":"/"}`, "/path"},
		{"/api/register", `{"email":"a@b.c","password":"x","admin":true}`, "/admin"},
	} {
		r := e.do(t, u.as(call{method: "POST", path: tc.path, body: tc.body}))
		er := wantError(t, r, http.StatusBadRequest, "")
		if er.Pointer.Or("") != tc.pointer {
			t.Errorf("POST %s %s: pointer %q, want %q (%s)", tc.path, tc.body, er.Pointer.Or(""), tc.pointer, er.Error)
		}
	}
	for _, body := range []string{`{"runnerId":`, `[]`, `null`, ` `} {
		wantError(t, e.do(t, u.as(call{method: "POST", path: "/api/runners/spawn", body: body, contentType: "application/json"})), http.StatusBadRequest, "")
	}
}

func TestOversizedBody(t *testing.T) {
	e := newEnv(t, func(o *options) { o.deps.MaxBodyBytes = 256 })
	u := e.newUser(t, "Ada")
	body := `{"runnerId":"r1","prompt":"` + strings.Repeat("x", 300) + `"}`
	wantError(t, e.do(t, u.as(call{method: "POST", path: "/api/runners/spawn", body: body})), http.StatusRequestEntityTooLarge, "")
	wantError(t, e.do(t, call{method: "POST", path: "/api/register", body: body}), http.StatusRequestEntityTooLarge, "")
}

func TestJSONBodiesNeedJSONContentType(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t, "Ada")
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		wantError(t, e.do(t, u.as(call{method: "POST", path: "/api/runners/spawn", body: `{"runnerId":"r1"}`, contentType: ct})),
			http.StatusUnsupportedMediaType, "")
	}
	wantError(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("a@example.com", password), contentType: "text/plain"}),
		http.StatusUnsupportedMediaType, "")
	// Parameters are fine.
	wantStatus(t, e.do(t, call{method: "POST", path: "/api/register", body: registerBody("a@example.com", password), contentType: "application/json; charset=utf-8"}),
		http.StatusOK)
}
