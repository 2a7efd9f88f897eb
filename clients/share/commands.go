package share

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
)

// enqueue queues a viewer command; commands run one at a time in arrival order.
func (p *publisher) enqueue(f func(context.Context)) {
	select {
	case p.cmds <- f:
	default:
		p.logf("too many viewer commands waiting; dropped one")
	}
}

// commandLoop runs the queued viewer commands until ctx ends.
func (p *publisher) commandLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-p.cmds:
			f(ctx)
		}
	}
}

// input delivers a viewer's message to the agent; a failure is published as a cli_error.
func (p *publisher) input(ctx context.Context, in *protocol.Input) {
	msg := Input{Text: in.Text, DeliverAs: string(in.DeliverAs.Or(""))}
	attachments, _ := in.Attachments.Get()
	for _, a := range attachments {
		img, text := p.fetchAttachment(ctx, a)
		if img != nil {
			msg.Images = append(msg.Images, *img)
		}
		if text != "" {
			msg.Text += "\n\n" + text
		}
	}
	if err := p.src.Input(ctx, msg); err != nil {
		p.logf("input: %v", err)
		p.publish(cliErrorEvent("Could not deliver the message: "+err.Error(), "pizzapi share"))
	}
}

// setModel switches the model and publishes model_set_result (both for the model_set event and
// the set_model command).
func (p *publisher) setModel(ctx context.Context, provider, modelID string) error {
	err := p.src.SetModel(ctx, &commands.SetModelParams{Provider: provider, ModelID: modelID})
	message := ""
	if err != nil {
		message = err.Error()
	}
	p.publish(modelSetResultEvent(err == nil, provider, modelID, message))
	return err
}

// exec runs a viewer's remote command and answers with exec_result.
func (p *publisher) exec(ctx context.Context, e *protocol.Exec) {
	res, err := commands.Dispatch(ctx, agentCommands{Handler: p.src, p: p}, e)
	if e.Command == commands.CommandAbort && err == nil {
		p.mu.Lock()
		p.publishHeartbeatLocked()
		p.mu.Unlock()
	}
	reply := protocol.ExecResult{ID: e.ID, OK: err == nil, Command: e.Command}
	if err != nil {
		reply.Error, reply.Code = protocol.Some(err.Error()), protocol.Some(failureCode(err))
	} else if len(res) > 0 && string(res) != "null" {
		reply.Result = res
	}
	if err := p.emitter().ExecResult(&reply); err != nil {
		p.logf("answering %s: %v", e.Command, err)
	}
}

// failureCode is the code of a failed command's exec_result: a coded error keeps its code; a
// command the contract does not define (PizzaPi's "Unknown exec command: NAME") or the agent does
// not implement is unsupported; parameters that do not match the contract are invalid; a command
// for an agent that is not running finds it offline; any other failure is the agent's own.
func failureCode(err error) protocol.ErrorCode {
	var ce *commands.CommandError
	switch {
	case protocol.CodeOf(err) != "":
		return protocol.CodeOf(err)
	case errors.Is(err, commands.ErrUnknownCommand), errors.Is(err, protocol.ErrUnimplemented):
		return protocol.ErrorCodeUnsupported
	case errors.As(err, &ce):
		return protocol.ErrorCodeInvalid
	case errors.Is(err, ErrNotRunning):
		return protocol.ErrorCodeAgentOffline
	}
	return protocol.ErrorCodeCommandFailed
}

// agentCommands are the source's commands as viewers reach them: the publisher ends the session
// itself and reports the outcome of a model change.
type agentCommands struct {
	commands.Handler
	p *publisher
}

// EndSession implements commands.Handler: the answer goes out, then the agent is stopped and the
// session ended.
func (c agentCommands) EndSession(context.Context, *commands.EndSessionParams) error {
	time.AfterFunc(100*time.Millisecond, c.p.requestEnd)
	return nil
}

// SetModel implements commands.Handler, publishing model_set_result.
func (c agentCommands) SetModel(ctx context.Context, m *commands.SetModelParams) error {
	return c.p.setModel(ctx, m.Provider, m.ModelID)
}

// maxAttachmentBytes bounds a downloaded attachment.
const maxAttachmentBytes = 20 << 20

// fetchAttachment turns an input attachment into an image for the agent, or into a line of text
// describing a file the agent cannot take (PizzaPi does the same).
func (p *publisher) fetchAttachment(ctx context.Context, a protocol.Attachment) (*Image, string) {
	name := a.Filename.Or("attachment")
	mime := a.MediaType.Or("")
	var data []byte
	var err error
	switch {
	case strings.HasPrefix(a.URL.Or(""), "data:"):
		mime, data, err = parseDataURL(a.URL.Or(""))
	case a.AttachmentID.Or("") != "":
		var ctype string
		ctype, data, err = p.download(ctx, a.AttachmentID.Or(""))
		if mime == "" {
			mime = ctype
		}
	case a.URL.Or("") != "":
		return nil, fmt.Sprintf("[Attached: %s (%s)]", name, a.URL.Or(""))
	default:
		return nil, ""
	}
	if err != nil {
		p.logf("attachment %s: %v", name, err)
		return nil, fmt.Sprintf("[Attachment %s could not be loaded: %v]", name, err)
	}
	if strings.HasPrefix(mime, "image/") {
		return &Image{Data: base64.StdEncoding.EncodeToString(data), MimeType: mime}, ""
	}
	if mime == "" {
		mime = "unknown type"
	}
	return nil, fmt.Sprintf("[Attached file: %s (%s, %d bytes)]", name, mime, len(data))
}

// download fetches an uploaded attachment from the relay with the API key.
func (p *publisher) download(ctx context.Context, id string) (string, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(p.o.RelayURL, "/")+"/api/attachments/"+url.PathEscape(id), nil)
	if err != nil {
		return "", nil, err
	}
	req.Header.Set("x-api-key", p.o.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", nil, fmt.Errorf("the relay answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAttachmentBytes+1))
	if err != nil {
		return "", nil, err
	}
	if len(data) > maxAttachmentBytes {
		return "", nil, fmt.Errorf("larger than %d bytes", maxAttachmentBytes)
	}
	ctype, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return strings.TrimSpace(ctype), data, nil
}

// parseDataURL decodes a data: URL.
func parseDataURL(u string) (mime string, data []byte, err error) {
	meta, payload, ok := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !ok {
		return "", nil, errors.New("malformed data URL")
	}
	parts := strings.Split(meta, ";")
	mime = parts[0]
	if parts[len(parts)-1] == "base64" {
		data, err = base64.StdEncoding.DecodeString(payload)
		return mime, data, err
	}
	s, err := url.PathUnescape(payload)
	return mime, []byte(s), err
}
