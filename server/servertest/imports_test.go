package servertest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestServerImportsNoClient: no package under server/, servertest included, depends on a package
// of clients/, in its code or in its tests. The relay and its test support stand without the Go
// clients; what both need (the Socket.IO client) lives in internal/.
func TestServerImportsNoClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}",
		"github.com/pizzapi/pizzapi/server/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for dep := range strings.Lines(string(out)) {
		if strings.HasPrefix(dep, "github.com/pizzapi/pizzapi/clients/") {
			t.Errorf("a server package depends on %s", strings.TrimSpace(dep))
		}
	}
}
