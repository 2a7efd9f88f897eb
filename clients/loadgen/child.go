package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// A session whose publisher runs in a process of its own (Config.PublisherCommand) talks to it
// with one JSON object per line on the child's stdin and stdout:
//
//	parent: childSetup      child: childRegistered (the session is registered, or why not)
//	parent: childStart      child: childReport (once it has published everything)
//
// and closes the child's stdin to end it. Times cross the process boundary as Unix nanoseconds
// and are turned back into the child's monotonic clock at once, so that the events' timestamps
// and the viewers' clocks agree to within microseconds.

// childSetup is what a publisher process needs to register its session.
type childSetup struct {
	URL            string        `json:"url"`
	RelayAuth      string        `json:"relayAuth"`
	SessionID      string        `json:"sessionId"`
	Rate           float64       `json:"rate"`
	Duration       time.Duration `json:"duration"`
	Warmup         time.Duration `json:"warmup"`
	Drain          time.Duration `json:"drain"`
	Payload        int           `json:"payload"`
	AttemptTimeout time.Duration `json:"attemptTimeout"`
}

// childRegistered answers childSetup.
type childRegistered struct {
	Error string `json:"error,omitempty"`
}

// childStart starts publishing: the run's epoch and start, and the session's offset.
type childStart struct {
	Epoch  int64         `json:"epoch"`
	Start  int64         `json:"start"`
	Offset time.Duration `json:"offset"`
}

// childReport is what the publisher process measured.
type childReport struct {
	Planned      int64         `json:"planned"`
	Sent         int64         `json:"sent"`
	SentMeasured int64         `json:"sentMeasured"`
	MaxBlock     time.Duration `json:"maxBlock"`
	MaxEmit      time.Duration `json:"maxEmit"`
	MaxLate      time.Duration `json:"maxLate"`
	Acked        int64         `json:"acked"`
	Errors       int64         `json:"errors"`
	LastError    string        `json:"lastError,omitempty"`
	SendErr      string        `json:"sendErr,omitempty"`
	SendEnd      time.Duration `json:"sendEnd"` // since the epoch
}

// monotonic turns a Unix time in nanoseconds into a time.Time on this process's monotonic clock.
func monotonic(unixNano int64) time.Time {
	now := time.Now()
	return now.Add(-time.Duration(now.UnixNano() - unixNano))
}

// publisherChild is the parent's end of a publisher process.
type publisherChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *json.Decoder
	enc   *json.Encoder
	once  sync.Once
}

// connectChild starts the session's publisher process and waits until it registered the session.
func (s *session) connectChild(ctx context.Context) error {
	cfg := s.r.cfg
	cmd := exec.Command(cfg.PublisherCommand[0], cfg.PublisherCommand[1:]...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("loadgen: publisher process: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("loadgen: publisher process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("loadgen: publisher process: %w", err)
	}
	c := &publisherChild{cmd: cmd, stdin: stdin, out: json.NewDecoder(bufio.NewReader(stdout)), enc: json.NewEncoder(stdin)}
	setup := childSetup{
		URL: cfg.URL, RelayAuth: string(s.r.relayAuth), SessionID: s.id, Rate: cfg.Rate, Duration: cfg.Duration,
		Warmup: cfg.Warmup, Drain: cfg.Drain, Payload: cfg.Payload, AttemptTimeout: cfg.AttemptTimeout,
	}
	var reg childRegistered
	err = c.enc.Encode(setup)
	if err == nil {
		err = c.read(ctx, &reg)
	}
	if err == nil && reg.Error != "" {
		err = errors.New(reg.Error)
	}
	if err != nil {
		c.close()
		return fmt.Errorf("loadgen: publisher process: %w", err)
	}
	s.child = c
	return nil
}

// read decodes the child's next line into v, or gives up (killing the child) when ctx ends.
func (c *publisherChild) read(ctx context.Context, v any) error {
	done := make(chan error, 1)
	go func() { done <- c.out.Decode(v) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = c.cmd.Process.Kill()
		<-done
		return ctx.Err()
	}
}

// close ends the child (closing its stdin) and waits for it; it may be called more than once.
func (c *publisherChild) close() {
	c.once.Do(func() {
		c.stdin.Close()
		t := time.AfterFunc(10*time.Second, func() { _ = c.cmd.Process.Kill() })
		defer t.Stop()
		_ = c.cmd.Wait()
	})
}

// publishChild has the session's publisher process publish, and takes over what it measured.
func (s *session) publishChild(ctx context.Context, start time.Time, offset time.Duration) {
	c := s.child
	now := time.Now()
	msg := childStart{
		Epoch:  now.Add(-now.Sub(s.r.epoch)).UnixNano(),
		Start:  now.Add(-now.Sub(start)).UnixNano(),
		Offset: offset,
	}
	var rep childReport
	err := c.enc.Encode(msg)
	if err == nil {
		err = c.read(ctx, &rep)
	}
	if err != nil {
		s.sendErr = fmt.Errorf("loadgen: publisher process: %w", err)
		return
	}
	s.planned, s.sent, s.sentMeasured = rep.Planned, rep.Sent, rep.SentMeasured
	s.maxBlock, s.maxEmit, s.maxLate = rep.MaxBlock, rep.MaxEmit, rep.MaxLate
	s.acked.Store(rep.Acked)
	s.errors.Store(rep.Errors)
	if rep.LastError != "" {
		s.lastError.Store(&rep.LastError)
	}
	if rep.SendErr != "" {
		s.sendErr = errors.New(rep.SendErr)
		return
	}
	s.r.noteSendEnd(rep.SendEnd)
}

// ServePublisher is the publisher process of Config.PublisherCommand: it reads its session's
// setup from in, registers the session, publishes it when told to and reports on out, then
// waits for in to close. Run in a process of its own, the publisher shares the load generator's
// core through the kernel's scheduler rather than Go's, which a thousand busy viewer readers
// in the same process would make it wait for.
func ServePublisher(ctx context.Context, in io.Reader, out io.Writer) error {
	dec := json.NewDecoder(bufio.NewReader(in))
	enc := json.NewEncoder(out)
	var setup childSetup
	if err := dec.Decode(&setup); err != nil {
		return fmt.Errorf("loadgen: publisher setup: %w", err)
	}
	r := &run{
		cfg: Config{
			URL: setup.URL, Rate: setup.Rate, Duration: setup.Duration, Warmup: setup.Warmup,
			Drain: setup.Drain, Payload: setup.Payload, AttemptTimeout: setup.AttemptTimeout,
		},
		relayAuth: []byte(setup.RelayAuth),
		failures:  map[string]int{},
	}
	s := &session{r: r, id: setup.SessionID}
	if err := s.connect(ctx); err != nil {
		return enc.Encode(childRegistered{Error: err.Error()})
	}
	defer s.conn.Close()
	if err := enc.Encode(childRegistered{}); err != nil {
		return err
	}
	var st childStart
	if err := dec.Decode(&st); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // the parent gave up before publishing
		}
		return fmt.Errorf("loadgen: publisher start: %w", err)
	}
	r.epoch = monotonic(st.Epoch)
	s.publish(ctx, monotonic(st.Start), st.Offset)
	s.awaitAcks(ctx)
	rep := childReport{
		Planned: s.planned, Sent: s.sent, SentMeasured: s.sentMeasured,
		MaxBlock: s.maxBlock, MaxEmit: s.maxEmit, MaxLate: s.maxLate,
		Acked: s.acked.Load(), Errors: s.errors.Load(), SendEnd: time.Duration(r.lastSend.Load()),
	}
	if m := s.lastError.Load(); m != nil {
		rep.LastError = *m
	}
	if s.sendErr != nil {
		rep.SendErr = s.sendErr.Error()
	}
	if err := enc.Encode(rep); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, in) // until the parent closes the connection's end
	return nil
}

// awaitAcks waits, at most the drain time, until the relay acknowledged every event sent.
func (s *session) awaitAcks(ctx context.Context) {
	deadline := time.Now().Add(s.r.cfg.Drain)
	for s.sendErr == nil && s.acked.Load() < s.sent && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}
