package api_test

import (
	"cmp"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/protocol/runner"
)

// fileAnswers are the runner's file_result payloads by command.
var fileAnswers = map[string]map[string]any{
	runner.EventListFiles: {"ok": true, "files": []any{
		map[string]any{"name": "src", "path": "/srv/work/src", "isDirectory": true, "isSymlink": false},
		map[string]any{"name": "go.mod", "path": "/srv/work/go.mod", "isDirectory": false, "isSymlink": false, "size": 412},
	}},
	runner.EventReadFile:  {"ok": true, "content": "module x\n", "size": 9, "truncated": false},
	runner.EventGitStatus: {"ok": true, "branch": "main", "changes": []any{map[string]any{"status": "M", "path": "main.go"}}, "ahead": 1, "behind": 0, "diffStaged": ""},
	runner.EventGitDiff:   {"ok": true, "diff": "--- a/main.go\n+++ b/main.go\n"},
}

func answerFiles(event string, _ []byte) answer {
	if p, ok := fileAnswers[event]; ok {
		return answer{event: runner.EventFileResult, payload: p}
	}
	return answer{}
}

// sameJSON fails unless got encodes the same JSON value as want.
func sameJSON(t *testing.T, got []byte, want map[string]any) {
	t.Helper()
	var g any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	w, _ := json.Marshal(want)
	var wv any
	_ = json.Unmarshal(w, &wv)
	if !reflect.DeepEqual(g, wv) {
		t.Errorf("body %s, want %s", got, w)
	}
}

func TestFileCommandsPassThrough(t *testing.T) {
	e := newEnv(t)
	ada := e.newUser(t, "Ada")
	rn := e.connectRunner(t, ada, []string{"/srv/work"}, nil)
	rn.answering(answerFiles)
	base := "/api/runners/" + rn.id

	r := e.do(t, call{method: "POST", path: base + "/files", body: `{"path":"/srv/work"}`, cookie: ada.cookie})
	wantStatus(t, r, http.StatusOK)
	sameJSON(t, r.body, fileAnswers[runner.EventListFiles])
	decode[rest.FilesResponse](t, r)
	var lf runner.ListFiles
	if err := lf.UnmarshalJSON(rn.last(t, runner.EventListFiles)); err != nil || lf.Path != "/srv/work" || lf.RequestID.Or("") == "" {
		t.Errorf("list_files %+v %v", lf, err)
	}

	r = e.do(t, ada.as(call{method: "POST", path: base + "/read-file", body: `{"path":"/srv/work/go.mod"}`}))
	wantStatus(t, r, http.StatusOK)
	sameJSON(t, r.body, fileAnswers[runner.EventReadFile])
	decode[rest.ReadFileResponse](t, r)
	var rf runner.ReadFile
	if err := rf.UnmarshalJSON(rn.last(t, runner.EventReadFile)); err != nil || rf.MaxBytes.Or(0) != 512<<10 || rf.Encoding.Or("") != "" {
		t.Errorf("read_file %+v %v", rf, err)
	}
	wantStatus(t, e.do(t, ada.as(call{method: "POST", path: base + "/read-file", body: `{"path":"/srv/work/logo.png","encoding":"base64"}`})), http.StatusOK)
	if err := rf.UnmarshalJSON(rn.last(t, runner.EventReadFile)); err != nil || rf.MaxBytes.Or(0) != 10<<20 || rf.Encoding.Or("") != runner.ReadFileEncodingBase64 {
		t.Errorf("base64 read_file %+v %v", rf, err)
	}

	r = e.do(t, ada.as(call{method: "POST", path: base + "/git-status", body: `{"cwd":"/srv/work"}`}))
	wantStatus(t, r, http.StatusOK)
	sameJSON(t, r.body, fileAnswers[runner.EventGitStatus])
	decode[rest.GitStatusResponse](t, r)

	r = e.do(t, ada.as(call{method: "POST", path: base + "/git-diff", body: `{"cwd":"/srv/work","path":"main.go","staged":true}`}))
	wantStatus(t, r, http.StatusOK)
	sameJSON(t, r.body, fileAnswers[runner.EventGitDiff])
	decode[rest.GitDiffResponse](t, r)
	var gd runner.GitDiff
	if err := gd.UnmarshalJSON(rn.last(t, runner.EventGitDiff)); err != nil || gd.Cwd != "/srv/work" || gd.Path != "main.go" || !gd.Staged.Or(false) {
		t.Errorf("git_diff %+v %v", gd, err)
	}
}

// TestFileCommandFailureStatus: a runner's refusal has the status its code means: a path outside
// the roots is 403 (it was 500), a bad path 400, a missing file 404; a failure without a code
// (PizzaPi's daemon sends none) is the runner's own, 502, whatever its message says.
func TestFileCommandFailureStatus(t *testing.T) {
	e := newEnv(t)
	ada := e.newUser(t, "Ada")
	rn := e.connectRunner(t, ada, nil, nil)
	for _, tc := range []struct {
		code, message string
		status        int
	}{
		{"forbidden", "Path outside allowed roots", http.StatusForbidden},
		{"invalid", "Invalid path", http.StatusBadRequest},
		{"invalid", "Missing path", http.StatusBadRequest},
		{"not_found", "Not found", http.StatusNotFound},
		{"forbidden", "Permission denied", http.StatusForbidden},
		{"", "Path outside allowed roots", http.StatusBadGateway},
		{"", "git exited with status 128", http.StatusBadGateway},
	} {
		rn.answering(func(string, []byte) answer {
			reply := map[string]any{"ok": false, "message": tc.message}
			if tc.code != "" {
				reply["code"] = tc.code
			}
			return answer{event: runner.EventFileResult, payload: reply}
		})
		for _, c := range []call{
			{method: "POST", path: "/api/runners/" + rn.id + "/files", body: `{"path":"/etc"}`},
			{method: "POST", path: "/api/runners/" + rn.id + "/read-file", body: `{"path":"/etc/passwd"}`},
			{method: "POST", path: "/api/runners/" + rn.id + "/git-status", body: `{"cwd":"/etc"}`},
			{method: "POST", path: "/api/runners/" + rn.id + "/git-diff", body: `{"cwd":"/etc","path":"x"}`},
		} {
			body := wantError(t, e.do(t, ada.as(c)), tc.status, tc.message)
			if want := cmp.Or(protocol.ErrorCode(tc.code), protocol.ErrorCodeUnavailable); body.Code != want {
				t.Errorf("%s %s: code %s, want %s", c.method, c.path, body.Code, want)
			}
		}
	}
}
