package redistest

import (
	"net"
	"testing"
)

func TestStart(t *testing.T) {
	a, b := Start(t), Start(t)
	if a == b {
		t.Fatalf("two servers share %s", a)
	}
	for _, addr := range []string{a, b} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}
