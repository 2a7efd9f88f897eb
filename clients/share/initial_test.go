package share

import (
	"reflect"
	"testing"

	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestInitialModelAndPrompt: a session started with a model and a first message (what a runner's
// spawn request asks for) switches the agent's model, then sends the message, before any viewer
// command.
func TestInitialModelAndPrompt(t *testing.T) {
	bin := fakeAgent(t)
	log := t.TempDir() + "/stdin.log"
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := share(t, n, u, Options{
		SessionID:     "s-initial",
		Source:        &RPC{Argv: []string{bin, "--log", log}, Log: &syncbuf.Buffer{}},
		InitialModel:  &protocol.AgentModel{Provider: "fake", ID: "fake-model-2"},
		InitialPrompt: "build the thing",
	})
	s.trace.wait(t, `echo: build the thing`)
	s.trace.wait(t, `"fake-model-2"`)
	var sent []string
	for _, cmd := range agentLog(t, log) {
		switch cmd["type"] {
		case "set_model":
			sent = append(sent, "set_model "+cmd["provider"].(string)+"/"+cmd["modelId"].(string))
		case "prompt":
			sent = append(sent, "prompt "+cmd["message"].(string))
		}
	}
	if want := []string{"set_model fake/fake-model-2", "prompt build the thing"}; !reflect.DeepEqual(sent, want) {
		t.Fatalf("the agent received %q, want %q", sent, want)
	}
}
