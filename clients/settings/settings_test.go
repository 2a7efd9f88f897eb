package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveLoadAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PIZZAPI_HOME", dir)
	t.Setenv("PIZZAPI_RELAY_URL", "")
	t.Setenv("PIZZAPI_API_KEY", "")
	if s, err := Load(); err != nil || s.RelayURL != "" {
		t.Fatalf("empty: %+v %v", s, err)
	}
	if _, err := Require(); err == nil {
		t.Fatal("Require without settings succeeded")
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"theme":"dark"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Save(Settings{RelayURL: "ws://relay:3000/", APIKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "config.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if !strings.Contains(string(data), `"theme": "dark"`) {
		t.Fatalf("unknown fields lost: %s", data)
	}
	s, err := Require()
	if err != nil || s.RelayURL != "http://relay:3000" || s.APIKey != "k1" {
		t.Fatalf("loaded %+v %v", s, err)
	}
	t.Setenv("PIZZAPI_RELAY_URL", "https://other/ws/sessions")
	t.Setenv("PIZZAPI_API_KEY", "k2")
	if s, _ := Load(); s.RelayURL != "https://other" || s.APIKey != "k2" {
		t.Fatalf("environment: %+v", s)
	}
}
