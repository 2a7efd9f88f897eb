// Package settings reads and writes the client configuration in ~/.pizzapi/config.json: the
// relay URL and the API key `pizzapi login` saved. The environment variables PIZZAPI_RELAY_URL and
// PIZZAPI_API_KEY override the file.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Settings is what clients need to reach the relay.
type Settings struct {
	RelayURL string `json:"relayUrl"`
	APIKey   string `json:"apiKey"`
}

// Dir is the client's state directory, ~/.pizzapi (PIZZAPI_HOME overrides it).
func Dir() (string, error) {
	if d := os.Getenv("PIZZAPI_HOME"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home directory: %w", err)
	}
	return filepath.Join(home, ".pizzapi"), nil
}

// Path is the configuration file.
func Path() (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "config.json"), nil
}

// Load reads the configuration file (a missing file is empty) and applies the environment.
func Load() (Settings, error) {
	var s Settings
	path, err := Path()
	if err != nil {
		return s, err
	}
	if err := ReadJSON(path, &s); err != nil {
		return s, err
	}
	if v := os.Getenv("PIZZAPI_RELAY_URL"); v != "" {
		s.RelayURL = v
	}
	if v := os.Getenv("PIZZAPI_API_KEY"); v != "" {
		s.APIKey = v
	}
	s.RelayURL = NormalizeURL(s.RelayURL)
	return s, nil
}

// Require returns the settings or an error telling the user to log in.
func Require() (Settings, error) {
	s, err := Load()
	if err != nil {
		return s, err
	}
	if s.RelayURL == "" || s.APIKey == "" {
		return s, errors.New("not logged in: run `pizzapi login --server URL` (or set PIZZAPI_RELAY_URL and PIZZAPI_API_KEY)")
	}
	return s, nil
}

// Save writes the configuration file with mode 0600 (its directory 0700), keeping fields it does
// not know.
func Save(s Settings) error {
	path, err := Path()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	return WriteFields(path, map[string]any{"relayUrl": NormalizeURL(s.RelayURL), "apiKey": s.APIKey})
}

// ReadJSON decodes the JSON file at path into v; a missing file leaves v as it is.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s is %w: %w", path, ErrInvalidJSON, err)
	}
	return nil
}

// ErrInvalidJSON is wrapped by ReadJSON when the file cannot be parsed.
var ErrInvalidJSON = errors.New("not valid JSON")

// WriteFields sets fields in the JSON object kept in path, keeping the fields it does not name,
// and writes the file atomically (a temporary file renamed over it) with mode 0600: these files
// hold secrets.
func WriteFields(path string, fields map[string]any) error {
	doc := map[string]any{}
	if data, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(data, &doc)
	}
	for k, v := range fields {
		doc[k] = v
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// NormalizeURL turns a relay address into an http(s) base URL: ws(s) schemes become http(s), a
// missing scheme becomes http, trailing slashes and PizzaPi's legacy /ws/sessions path go.
func NormalizeURL(u string) string {
	u = strings.TrimSpace(u)
	if u == "" {
		return ""
	}
	switch {
	case strings.HasPrefix(u, "ws://"):
		u = "http://" + u[len("ws://"):]
	case strings.HasPrefix(u, "wss://"):
		u = "https://" + u[len("wss://"):]
	case !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://"):
		u = "http://" + u
	}
	u = strings.TrimRight(u, "/")
	return strings.TrimSuffix(u, "/ws/sessions")
}
