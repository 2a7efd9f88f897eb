package share

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
)

// JSONL is a Source that relays a recorded JSON-lines event stream: each line one agent event
// object with a string "type" (what `pi --mode json` prints, or a saved session). Lines that are
// not such an object are reported and skipped. The stream takes no input and no commands.
type JSONL struct {
	// R is the stream.
	R io.Reader
	// Name names the stream in messages ("-" for standard input).
	Name string
	// Log receives the reports about invalid lines (default os.Stderr).
	Log io.Writer
	// EndAtEOF ends the session when the stream ends; otherwise it stays open (idle,
	// heartbeating) until it is stopped.
	EndAtEOF bool

	// A recording carries out no commands.
	commands.UnimplementedHandler
}

// Run implements Source.
func (j *JSONL) Run(ctx context.Context, sink Sink) error {
	log := j.Log
	if log == nil {
		log = os.Stderr
	}
	lines := make(chan []byte)
	readErr := make(chan error, 1)
	go func() {
		r := bufio.NewReaderSize(j.R, 64<<10)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				select {
				case lines <- line:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				readErr <- err
				return
			}
		}
	}()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case line := <-lines:
			n++
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			if err := checkEvent(line); err != nil {
				fmt.Fprintf(log, "pizzapi share: %s line %d: skipped: %v\n", j.Name, n, err)
				continue
			}
			sink.Event(json.RawMessage(line))
		case err := <-readErr:
			if err != nil {
				return fmt.Errorf("reading %s: %w", j.Name, err)
			}
			if j.EndAtEOF {
				return nil
			}
			<-ctx.Done()
			return nil
		}
	}
}

// checkEvent reports why line is not an agent event the relay would take.
func checkEvent(line []byte) error {
	if !json.Valid(line) {
		return errors.New("not valid JSON")
	}
	var ev protocol.AgentEvent
	if err := ev.UnmarshalJSON(line); err != nil {
		return fmt.Errorf("not an agent event: %v", err)
	}
	return nil
}

// Input implements Source: a recording takes no input.
func (j *JSONL) Input(context.Context, Input) error {
	return errors.New("this session replays a recorded event stream and takes no input")
}
