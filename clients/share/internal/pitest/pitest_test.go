package pitest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestInstallPi installs pi (CI runs it on its own first) and checks that it runs.
func TestInstallPi(t *testing.T) {
	cli := Install(t)
	out, err := exec.Command("node", cli, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), Version) {
		t.Fatalf("pi --version: %v\n%s", err, out)
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatal(err)
	}
}
