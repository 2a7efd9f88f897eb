package api

import (
	"net/http"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/rest"
	"github.com/pizzapi/pizzapi/protocol/runner"
	"github.com/pizzapi/pizzapi/server/accounts"
)

// Limits of read-file (PizzaPi's): how much the runner returns, and how long a base64 read may
// take.
const (
	maxTextRead    = 512 << 10
	maxBase64Read  = 10 << 20
	base64ReadWait = 30 * time.Second
)

// listFiles is POST /api/runners/{id}/files: list a directory on the runner.
func (a *api) listFiles(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	var req rest.FilesRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	return a.fileCommand(w, r, u, runner.EventListFiles, 0, func(id string) []byte {
		p := runner.ListFiles{RequestID: protocol.Some(id), Path: req.Path}
		return p.AppendJSON(nil)
	})
}

// readFile is POST /api/runners/{id}/read-file: read a file on the runner, as text or base64.
func (a *api) readFile(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	var req rest.ReadFileRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	p := runner.ReadFile{Path: req.Path, MaxBytes: protocol.Some(int64(maxTextRead))}
	var timeout time.Duration
	if enc, ok := req.Encoding.Get(); ok {
		p.Encoding = protocol.Some(runner.ReadFileEncoding(enc))
		if enc == rest.ReadFileEncodingBase64 {
			p.MaxBytes, timeout = protocol.Some(int64(maxBase64Read)), base64ReadWait
		}
	}
	return a.fileCommand(w, r, u, runner.EventReadFile, timeout, func(id string) []byte {
		p.RequestID = protocol.Some(id)
		return p.AppendJSON(nil)
	})
}

// gitStatus is POST /api/runners/{id}/git-status.
func (a *api) gitStatus(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	var req rest.GitStatusRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	return a.fileCommand(w, r, u, runner.EventGitStatus, 0, func(id string) []byte {
		p := runner.GitStatus{RequestID: protocol.Some(id), Cwd: req.Cwd}
		return p.AppendJSON(nil)
	})
}

// gitDiff is POST /api/runners/{id}/git-diff.
func (a *api) gitDiff(w http.ResponseWriter, r *http.Request, u accounts.Account) error {
	var req rest.GitDiffRequest
	if err := a.readJSON(w, r, &req); err != nil {
		return err
	}
	return a.fileCommand(w, r, u, runner.EventGitDiff, 0, func(id string) []byte {
		p := runner.GitDiff{RequestID: protocol.Some(id), Cwd: req.Cwd, Path: req.Path, Staged: req.Staged}
		return p.AppendJSON(nil)
	})
}

// fileCommand sends a file or git command to the runner {id} and passes its file_result through
// without the request id; a result with ok:false is answered with the runner's code and message
// (runnerFailure). A zero timeout is the core's default.
func (a *api) fileCommand(w http.ResponseWriter, r *http.Request, u accounts.Account, event string, timeout time.Duration, build func(requestID string) []byte) error {
	data, err := a.Core.RunnerCommand(r.Context(), u.ID, r.PathValue("id"), event, build, timeout)
	if err != nil {
		return err
	}
	var res runner.FileResult
	if err := res.UnmarshalJSON(data); err != nil {
		a.Logger.Warn("runner sent an invalid file_result", "runner", r.PathValue("id"), "error", err)
		return errorf(http.StatusBadGateway, "Invalid reply from the runner")
	}
	if ok, present := res.OK.Get(); present && !ok {
		return runnerFailure(res.Code, res.Message.Or("The runner could not run "+event))
	}
	res.RequestID = protocol.Optional[string]{}
	writeJSON(w, http.StatusOK, &res)
	return nil
}

// runnerFailure is the error of a runner's {ok:false, code, message}: the runner's code decides
// the status (a path outside the workspace roots is forbidden, a missing file not found, ...). A
// runner that sends no code (PizzaPi's daemon) reports a failure of its own, a 502.
func runnerFailure(code protocol.Optional[protocol.ErrorCode], message string) error {
	if c, ok := code.Get(); ok {
		return protocol.NewError(c, message)
	}
	return errorf(http.StatusBadGateway, message)
}
