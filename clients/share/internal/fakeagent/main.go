// Command fakeagent stands in for `pi --mode rpc` in tests of pizzapi share: it appends every
// command line it receives on standard input to a log file, answers the commands pizzapi sends
// with RPC responses, and answers each prompt with a short scripted run of agent events.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
)

type model struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Provider      string `json:"provider"`
	API           string `json:"api"`
	Reasoning     bool   `json:"reasoning"`
	ContextWindow int    `json:"contextWindow"`
}

var models = []model{
	{ID: "fake-model-1", Name: "Fake One", Provider: "fake", API: "fake", Reasoning: true, ContextWindow: 1000},
	{ID: "fake-model-2", Name: "Fake Two", Provider: "fake", API: "fake", ContextWindow: 2000},
}

var outMu sync.Mutex

func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func respond(id, command string, data any) {
	r := map[string]any{"type": "response", "command": command, "success": true}
	if id != "" {
		r["id"] = id
	}
	if data != nil {
		r["data"] = data
	}
	emit(r)
}

func fail(id, command, msg string) {
	emit(map[string]any{"type": "response", "id": id, "command": command, "success": false, "error": msg})
}

func main() {
	logPath := flag.String("log", "", "file the received command lines are appended to")
	burst := flag.Int("burst", 0, "print this many message_end events right after answering get_messages")
	name := flag.String("name", "fake session", "the session name get_state reports (\"\" for none)")
	flag.Parse()
	log, err := os.OpenFile(*logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeagent:", err)
		os.Exit(2)
	}
	defer log.Close()
	// Something that is not an event: pizzapi share must report and skip it.
	fmt.Println("fakeagent starting")
	current := models[0]
	thinking := "low"
	// setThinking applies a level as pi does: clamped to what the model supports, reported with
	// thinking_level_changed when it changes.
	setThinking := func(level string) {
		if !current.Reasoning {
			level = "off"
		} else if level == "xhigh" {
			level = "high"
		}
		if level != thinking {
			thinking = level
			emit(map[string]any{"type": "thinking_level_changed", "level": level})
		}
	}
	in := bufio.NewReader(os.Stdin)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 {
			log.Write(line)
			var cmd map[string]any
			if json.Unmarshal(line, &cmd) != nil {
				fail("", "parse", "Failed to parse command")
				continue
			}
			id, _ := cmd["id"].(string)
			typ, _ := cmd["type"].(string)
			switch typ {
			case "get_state":
				respond(id, typ, map[string]any{"model": current, "thinkingLevel": thinking, "isStreaming": false, "sessionName": *name, "messageCount": 1})
			case "get_available_models":
				respond(id, typ, map[string]any{"models": models})
			case "get_commands":
				respond(id, typ, map[string]any{"commands": []any{map[string]any{"name": "fake-cmd", "description": "does nothing", "source": "extension"}}})
			case "get_messages":
				respond(id, typ, map[string]any{"messages": []any{map[string]any{"role": "user", "content": "earlier", "timestamp": 1}}})
				for i := range *burst {
					emit(map[string]any{"type": "message_end", "message": map[string]any{"role": "user", "content": fmt.Sprint("burst ", i), "timestamp": 2}})
				}
			case "prompt":
				respond(id, typ, nil)
				text, _ := cmd["message"].(string)
				run(text)
			case "set_model":
				provider, _ := cmd["provider"].(string)
				modelID, _ := cmd["modelId"].(string)
				found := false
				for _, m := range models {
					if m.Provider == provider && m.ID == modelID {
						current, found = m, true
					}
				}
				if !found {
					fail(id, typ, "Model not found: "+provider+"/"+modelID)
					continue
				}
				setThinking(thinking)
				respond(id, typ, current)
			case "cycle_model":
				current = models[(indexOf(current)+1)%len(models)]
				respond(id, typ, map[string]any{"model": current, "thinkingLevel": "low", "isScoped": false})
			case "cycle_thinking_level":
				respond(id, typ, map[string]any{"level": "medium"})
			case "compact":
				respond(id, typ, map[string]any{"summary": "a summary", "firstKeptEntryId": "e1", "tokensBefore": 1234, "details": map[string]any{}})
			case "get_last_assistant_text":
				respond(id, typ, map[string]any{"text": "echo: hi"})
			case "new_session":
				respond(id, typ, map[string]any{"cancelled": false})
			case "export_html":
				path, _ := cmd["outputPath"].(string)
				if path == "" {
					path = "/tmp/fake-session.html"
				}
				respond(id, typ, map[string]any{"path": path})
			case "set_thinking_level":
				level, _ := cmd["level"].(string)
				setThinking(level)
				respond(id, typ, nil)
			default:
				respond(id, typ, nil)
			}
		}
		if err != nil {
			log.Write([]byte("EOF\n"))
			return
		}
	}
}

// indexOf returns the index of m in models.
func indexOf(m model) int {
	for i, x := range models {
		if x == m {
			return i
		}
	}
	return 0
}

// run prints the events of a short agent run answering text.
func run(text string) {
	user := map[string]any{"role": "user", "content": text, "timestamp": 1}
	reply := "echo: " + text
	assistant := map[string]any{"role": "assistant", "content": []any{map[string]any{"type": "text", "text": reply}}, "stopReason": "stop", "timestamp": 2}
	emit(map[string]any{"type": "agent_start"})
	emit(map[string]any{"type": "turn_start"})
	emit(map[string]any{"type": "message_start", "message": user})
	emit(map[string]any{"type": "message_end", "message": user})
	emit(map[string]any{"type": "message_start", "message": assistant})
	emit(map[string]any{"type": "message_update", "message": assistant, "assistantMessageEvent": map[string]any{"type": "text_delta", "contentIndex": 0, "delta": reply}})
	emit(map[string]any{"type": "message_end", "message": assistant})
	emit(map[string]any{"type": "turn_end", "message": assistant, "toolResults": []any{}})
	emit(map[string]any{"type": "agent_end", "messages": []any{user, assistant}})
}
