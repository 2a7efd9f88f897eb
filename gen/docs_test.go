package gen

import "testing"

func TestTypeSentence(t *testing.T) {
	for desc, want := range map[string]string{
		"A language model.":            "X is a language model.",
		"The agent's reply.":           "X is the agent's reply.",
		"URL of the relay.":            "X is URL of the relay.",
		"PTY output.":                  "X is PTY output.",
		"`exec` command.":              "X is `exec` command.",
		"liveness and status.":         "X is liveness and status.",
		"":                             "X is generated from the schema.",
		"Über-long description, kept.": "X is über-long description, kept.",
	} {
		if got := typeSentence("X", desc); got != want {
			t.Errorf("typeSentence(%q) = %q, want %q", desc, got, want)
		}
	}
}

func TestGroupImports(t *testing.T) {
	src := "package p\n\nimport (\n\t\"context\"\n\twire \"example.com/w\"\n\t\"encoding/json\"\n)\n\nvar _ = 1\n"
	want := "package p\n\nimport (\n\t\"context\"\n\t\"encoding/json\"\n\n\twire \"example.com/w\"\n)\n\nvar _ = 1\n"
	if got := string(groupImports([]byte(src))); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	single := "package p\n\nimport \"context\"\n"
	if got := string(groupImports([]byte(single))); got != single {
		t.Errorf("a single import changed:\n%s", got)
	}
}
