package gen

import "testing"

func TestLoadRealContract(t *testing.T) {
	c, err := Load("../schema")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string][3]int{}
	for _, ns := range c.Namespaces {
		var n [3]int
		for d := range ns.Groups {
			n[d] = len(ns.Groups[d].Events)
		}
		counts[ns.Path] = n
	}
	t.Logf("%v, shared types %d", counts, len(c.Shared.Types))
}
