package share

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
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
func (p *publisher) setModel(ctx context.Context, provider, modelID string) (json.RawMessage, error) {
	prov, _ := json.Marshal(provider)
	id, _ := json.Marshal(modelID)
	res, err := p.src.Exec(ctx, Command{Name: "set_model", Params: map[string]json.RawMessage{"provider": prov, "modelId": id}})
	message := ""
	if err != nil {
		message = errorText("set_model", err)
	}
	p.publish(modelSetResultEvent(err == nil, provider, modelID, message))
	return res, err
}

// exec runs a viewer's remote command and answers with exec_result.
func (p *publisher) exec(ctx context.Context, e *protocol.Exec) {
	cmd := Command{Name: e.Command, Params: e.Extra}
	var (
		res json.RawMessage
		err error
	)
	switch e.Command {
	case "end_session":
		// Handled here: answer, then stop the agent and end the session shortly after.
		defer time.AfterFunc(100*time.Millisecond, p.requestEnd)
	case "set_model":
		res, err = p.setModel(ctx, cmd.String("provider"), cmd.String("modelId"))
	default:
		res, err = p.src.Exec(ctx, cmd)
	}
	if e.Command == "abort" && err == nil {
		p.mu.Lock()
		p.publishHeartbeatLocked()
		p.mu.Unlock()
	}
	reply := protocol.ExecResult{ID: e.ID, OK: err == nil, Command: e.Command}
	if err != nil {
		reply.Error = protocol.Some(errorText(e.Command, err))
	} else if len(res) > 0 && string(res) != "null" {
		reply.Result = res
	}
	if err := p.emitter().ExecResult(&reply); err != nil {
		p.logf("answering %s: %v", e.Command, err)
	}
}

// errorText is what a viewer is told about a failed command.
func errorText(command string, err error) string {
	if errors.Is(err, ErrUnknownCommand) {
		return "Unknown exec command: " + command
	}
	return err.Error()
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
