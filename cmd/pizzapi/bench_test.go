package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/urfave/cli/v3"

	"github.com/pizzapi/pizzapi/clients/loadgen"
	"github.com/pizzapi/pizzapi/server/servertest"
)

func TestCheckLoopback(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:3000", "http://127.3.4.5", "http://localhost:1", "ws://[::1]:80"} {
		if err := checkLoopback(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:3000", "http://example.com", "http://192.168.1.1", "::", "http://0.0.0.0:1"} {
		if err := checkLoopback(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

// TestBenchCommand runs a tiny benchmark through the command, registering an account by REST.
func TestBenchCommand(t *testing.T) {
	n := servertest.Start(t)
	var out bytes.Buffer
	cmd := benchCommand()
	cmd.Writer = &out
	err := cmd.Run(context.Background(), []string{"bench",
		"--url", n.URL, "--email", "bench@example.com", "--password", "correct horse battery",
		"--sessions", "2", "--viewers", "3", "--rate", "40", "--duration", "300ms", "--warmup", "100ms",
		"--json"})
	if err != nil {
		t.Fatal(err)
	}
	data := out.Bytes()
	var res loadgen.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	if res.ViewersConnected != 6 || res.Expected == 0 || res.Received != res.Expected {
		t.Errorf("result: %s", data)
	}

	for _, args := range [][]string{
		{"bench", "--url", "http://192.168.1.1:3000", "--api-key", "k"}, // not loopback
		{"bench", "--url", n.URL}, // no credentials
	} {
		cmd := benchCommand()
		cmd.ExitErrHandler = func(context.Context, *cli.Command, error) {} // do not exit the test
		if err := cmd.Run(context.Background(), args); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
