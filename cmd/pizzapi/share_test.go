package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// shareProcess starts `pizzapi share args...` against the relay at url with the API key.
func shareProcess(t *testing.T, url, apiKey string, args ...string) (*exec.Cmd, *bufio.Scanner, *bytes.Buffer, chan error) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"share"}, args...)...)
	cmd.Env = append(os.Environ(), "PIZZAPI_HOME="+t.TempDir(), "PIZZAPI_RELAY_URL="+url, "PIZZAPI_API_KEY="+apiKey, "PIZZAPI_SESSION_ID=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		done <- nil
		if t.Failed() {
			t.Logf("stderr:\n%s", stderr.String())
		}
	})
	return cmd, bufio.NewScanner(stdout), stderr, done
}

// TestShareDemoBinary runs the real binary: `pizzapi share --demo` publishes the demo agent; a
// viewer sees its events gap-free, types into it and sees the reply; SIGINT ends the session
// for the viewer and the process exits 0.
func TestShareDemoBinary(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	cmd, out, _, done := shareProcess(t, n.URL, u.APIKey, "--demo", "--demo-speed", "20", "--session-id", "s-binary", "--name", "binary test")
	if !out.Scan() || !strings.Contains(out.Text(), n.URL+"/session/s-binary") {
		t.Fatalf("first line %q, want the share URL", out.Text())
	}
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-binary"}})
	var hello viewer.SessionConnected
	v.NextInto(t, "connected", &hello)
	v.Emit(t, "connected", map[string]any{})
	last := hello.LastSeq.Or(0)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("viewer connected=%v, last seq %d, pending %v", v.Connected(), last, v.Names())
		}
	})
	// next returns the next live event, checking that the numbers have no gap.
	next := func() viewer.ViewerEvent {
		t.Helper()
		for {
			var e viewer.ViewerEvent
			v.NextInto(t, "event", &e)
			seq, ok := e.Seq.Get()
			if !ok || seq <= last {
				continue
			}
			if seq != last+1 {
				t.Fatalf("seq %d after %d", seq, last)
			}
			last = seq
			return e
		}
	}
	// until returns the text of the assistant messages up to the next agent_end.
	untilAgentEnd := func() (text string, events int) {
		for {
			e := next()
			events++
			if e.Event.Type == "message_end" {
				var m struct {
					Message struct {
						Role    string
						Content []struct{ Type, Text string }
					}
				}
				_ = json.Unmarshal(e.Event.Raw, &m)
				for _, c := range m.Message.Content {
					if m.Message.Role == "assistant" && c.Type == "text" {
						text += c.Text
					}
				}
			}
			if e.Event.Type == "agent_end" {
				return text, events
			}
		}
	}
	// Type into the agent at once: the message waits for the scripted opening if it is still
	// streaming, then gets its own reply.
	var ack viewer.CommandAck
	if err := ack.UnmarshalJSON(v.Ack(t, "input", map[string]any{"text": "ping from the binary test", "attachments": []any{}})); err != nil || !ack.OK {
		t.Fatalf("input ack %s: %v", ack.AppendJSON(nil), err)
	}
	total := 0
	for run := 0; ; run++ {
		text, count := untilAgentEnd()
		total += count
		if strings.Contains(text, "ping from the binary test") {
			break
		}
		if run == 2 {
			t.Fatalf("no reply to the input; last run said %q", text)
		}
	}
	if total < 20 {
		t.Fatalf("only %d events", total)
	}

	// Ctrl-C.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var d viewer.Disconnected
	v.NextInto(t, "disconnected", &d)
	if d.Reason != "Session ended" {
		t.Fatalf("disconnected: %q", d.Reason)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pizzapi share did not exit after SIGINT")
	}
}

// TestShareUnauthorizedBinary: a refused API key exits non-zero at once with a clear message.
func TestShareUnauthorizedBinary(t *testing.T) {
	n := servertest.Start(t)
	start := time.Now()
	_, _, stderr, done := shareProcess(t, n.URL, "pzp_revoked", "--demo")
	select {
	case err := <-done:
		done <- err
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pizzapi share kept retrying")
	}
	if !strings.Contains(stderr.String(), "pizzapi share: the relay refused the API key: run pizzapi login") {
		t.Fatalf("stderr: %s", stderr.String())
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("took %v", d)
	}
}

// TestShareNeedsOneSource: the command refuses zero or several event sources.
func TestShareNeedsOneSource(t *testing.T) {
	for _, args := range [][]string{{}, {"--demo", "--jsonl", "-"}, {"--demo", "--", "pi"}} {
		_, _, stderr, done := shareProcess(t, "http://127.0.0.1:1", "k", args...)
		err := <-done
		done <- err
		if err == nil || !strings.Contains(stderr.String(), "choose one event source") {
			t.Fatalf("%v: %v, %s", args, err, stderr.String())
		}
	}
}
