package gen

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// fixtureGoOptions places the fixture's Go output at example.com/chat/protocol.
var fixtureGoOptions = GoOptions{ImportPath: "example.com/chat/protocol", WireImportPath: "github.com/pizzapi/pizzapi/internal/wire"}

func generateFixture(t *testing.T) map[string][]byte {
	t.Helper()
	c, err := Load("testdata/fixture")
	if err != nil {
		t.Fatal(err)
	}
	goFiles, err := GenerateGo(c, fixtureGoOptions)
	if err != nil {
		t.Fatal(err)
	}
	all := map[string][]byte{}
	for name, src := range goFiles {
		all["go/"+name+".golden"] = src
	}
	for name, src := range GenerateTS(c) {
		all["ts/"+name+".golden"] = src
	}
	return all
}

// TestGolden compares the generator's output for the fixture schema with the files under
// testdata/golden. Run `go test ./gen -update` after an intended change and review the diff.
func TestGolden(t *testing.T) {
	files := generateFixture(t)
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for name, src := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var want []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			want = append(want, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for name := range files {
		got = append(got, name)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("generated files:\n%s\ngolden files:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, name := range got {
		golden, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(golden, files[name]) {
			t.Errorf("%s differs from the golden file (run go test ./gen -update to accept):\n%s", name, firstDiff(golden, files[name]))
		}
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "line " + itoa(i+1) + ":\n- " + al[i] + "\n+ " + bl[i]
		}
	}
	return "length differs"
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestGeneratedFixtureCompiles builds the fixture's Go output inside this module.
func TestGeneratedFixtureCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	root, err := filepath.Abs("testdata/compiled")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	c, err := Load("testdata/fixture")
	if err != nil {
		t.Fatal(err)
	}
	opts := GoOptions{ImportPath: "github.com/pizzapi/pizzapi/gen/testdata/compiled/protocol", WireImportPath: fixtureGoOptions.WireImportPath}
	files, err := GenerateGo(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		p := filepath.Join(root, "protocol", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "vet", "./testdata/compiled/protocol/...")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go vet of the generated fixture: %v\n%s", err, out)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := generateFixture(t), generateFixture(t)
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	c, err := Load("../schema")
	if err != nil {
		t.Fatal(err)
	}
	x, err := GenerateGo(c, GoOptions{ImportPath: "p", WireImportPath: "w"})
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := Load("../schema")
	y, _ := GenerateGo(c2, GoOptions{ImportPath: "p", WireImportPath: "w"})
	for name := range x {
		if !bytes.Equal(x[name], y[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// TestBrokenSchemas breaks a copy of the fixture in the ways a person editing a schema might and
// checks that generation fails with a message naming the file and the event, leaving the earlier
// output as it was.
func TestBrokenSchemas(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		old     string
		new     string
		wantAll []string
	}{
		{"bad $ref", "chat.json", `"shared.json#/$defs/Mood"`, `"shared.json#/$defs/Moody"`, []string{"chat.json", `event "say"`, "Moody"}},
		{"duplicate event name", "chat.json", `"leave": {`, `"say": {`, []string{"chat.json", `duplicate key "say"`}},
		{"payload not an object", "chat.json", `"description": "Leaves the room.",
          "type": "object",`, `"description": "Leaves the room.",
          "type": "string",`, []string{"chat.json", `event "leave"`}},
		{"unknown keyword", "chat.json", `"maxItems": 3,`, `"maxItems": 3, "uniqueItems": true,`, []string{"chat.json", `event "say"`, `unsupported keyword "uniqueItems"`}},
		{"invalid keyword value", "chat.json", `"maxLength": 1000`, `"maxLength": "long"`, []string{"chat.json", "not a valid JSON Schema"}},
		{"invalid type", "chat.json", `"type": "integer"}`, `"type": "int"}`, []string{"chat.json"}},
		{"example does not validate", "chat.json", `"examples": [{"text": "hello"`, `"examples": [{"text": 5`, []string{"chat.json", `event "say"`, "example 1 does not match"}},
		{"missing description", "chat.json", `"description": "The joined room.", `, ``, []string{"chat.json", `property "room" needs a description`}},
		{"no example", "chat.json", `"examples": [{}]`, `"examples": []`, []string{"chat.json", `event "leave"`, "at least one example"}},
		{"reserved event name", "chat.json", `"leave": {`, `"disconnect": {`, []string{"chat.json", `"disconnect" is not an event name`}},
		{"command without example", "dice.json", `"examples": [{"sides": 6}]`, `"examples": []`, []string{"dice.json", `command "roll"`, "at least one example"}},
		{"command result not an object", "dice.json", `"anyOf": [{"$ref": "#/$defs/Roll"}, {"type": "null"}]`, `"type": "integer"`, []string{"dice.json", `command "roll"`, "the result must be an object"}},
		{"commands without Exec", "shared.json", `"Exec": {`, `"Exec2": {`, []string{"dice.json", "Exec"}},
		{"undescribed enum value", "shared.json", `"too_large": "A message is over its limit."`, `"too_big": "A message is over its limit."`, []string{"shared.json", `"too_big", which is not an enum value`}},
		{"enum description without enum", "shared.json", `"description": "Display name.", "type": "string",`, `"description": "Display name.", "type": "string", "x-enum-descriptions": {},`, []string{"shared.json", "x-enum-descriptions needs an enum"}},
		{"credential not true", "chat.json", `"x-credential": true`, `"x-credential": "yes"`, []string{"chat.json", "x-credential must be true"}},
		{"credential not a string", "chat.json", `"type": "string", "x-credential": true`, `"type": "integer", "x-credential": true`, []string{"chat.json", `"x-credential"`}},
		{"two credentials", "chat.json", `"type": "string", "x-credential": true}`, `"type": "string", "x-credential": true}, "key": {"description": "Another.", "type": "string", "x-credential": true}`, []string{"chat.json", "at most one credential"}},
		{"credential outside Auth", "shared.json", `"description": "Display name.", "type": "string",`, `"description": "Display name.", "type": "string", "x-credential": true,`, []string{"shared.json", "only to a property of a namespace's Auth"}},
		{"event named like the socket's method", "chat.json", `"leave": {`, `"disconnected": {`, []string{"chat.json", `"disconnected"`, "ServerSocket.Disconnected"}},
		{"event named like the client's method", "chat.json", `"leave": {`, `"close": {`, []string{"chat.json", `"close"`, "Client.Close"}},
		{"type name clash", "chat.json", `"description": "Posts a message to the room.",`, `"description": "Posts a message to the room.", "title": "Message",`, []string{"chat.json", "Message"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			schema := t.TempDir()
			for _, f := range []string{"shared.json", "chat.json", "dice.json"} {
				data, err := os.ReadFile(filepath.Join("testdata/fixture", f))
				if err != nil {
					t.Fatal(err)
				}
				if f == tc.file {
					if !bytes.Contains(data, []byte(tc.old)) {
						t.Fatalf("fixture lacks %q", tc.old)
					}
					data = bytes.Replace(data, []byte(tc.old), []byte(tc.new), 1)
				}
				if err := os.WriteFile(filepath.Join(schema, f), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := t.TempDir()
			opts := Options{SchemaDir: "testdata/fixture", GoDir: filepath.Join(out, "go"), TSDir: filepath.Join(out, "ts"), Go: fixtureGoOptions}
			if err := Generate(opts); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, out)
			opts.SchemaDir = schema
			err := Generate(opts)
			if err == nil {
				t.Fatal("generation succeeded on a broken schema")
			}
			for _, want := range tc.wantAll {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if after := snapshot(t, out); after != before {
				t.Error("a failed generation changed the previous output")
			}
		})
	}
}

func snapshot(t *testing.T, dir string) string {
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		b.WriteString(p + "\n" + string(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestStaleFilesRemoved checks that generated files of a namespace that no longer exists are
// deleted while hand-written files stay.
func TestStaleFilesRemoved(t *testing.T) {
	out := t.TempDir()
	stale := filepath.Join(out, "go", "gone", "types.go")
	kept := filepath.Join(out, "go", "handwritten.go")
	for p, content := range map[string]string{stale: "// " + generatedMarker + " from x. DO NOT EDIT.\npackage gone\n", kept: "package protocol\n"} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := Options{SchemaDir: "testdata/fixture", GoDir: filepath.Join(out, "go"), TSDir: filepath.Join(out, "ts"), Go: fixtureGoOptions}
	if err := Generate(opts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale generated file was not removed")
	}
	if _, err := os.Stat(kept); err != nil {
		t.Error("hand-written file was removed")
	}
}
