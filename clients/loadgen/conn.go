package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// DialOptions configures one connection.
type DialOptions struct {
	// URL is the relay's base URL (http, https, ws or wss); the Engine.IO path is appended.
	URL string
	// Namespace is the Socket.IO namespace to connect to, e.g. "/viewer".
	Namespace string
	// Auth is the handshake auth object as JSON (nil sends none).
	Auth []byte
	// OnEvent is called on the connection's reader goroutine for every event of the namespace
	// that arrives after the namespace CONNECT. The slices are only valid during the call.
	OnEvent func(event, payload []byte)
	// HandshakeTimeout bounds the websocket handshake and the namespace CONNECT (default 10s).
	HandshakeTimeout time.Duration
	// WriteTimeout bounds each write (default 10s).
	WriteTimeout time.Duration
	// ReadBufferSize and WriteBufferSize size the websocket buffers (defaults 4096 and 1024).
	ReadBufferSize, WriteBufferSize int
	// MaxMessageBytes is the largest frame accepted (default 16 MiB).
	MaxMessageBytes int64
	// LocalAddr is an optional source IP address, e.g. 127.0.0.2, to spread many connections
	// over more source ports.
	LocalAddr string
	// Polling starts the Engine.IO session on HTTP long-polling and upgrades it to the websocket
	// (probe, then upgrade) before the namespace CONNECT, as socket.io-client does by default;
	// otherwise the session starts on the websocket.
	Polling bool
	// MeasureRoomWait makes writes wait for room in the socket's send buffer in poll(2) and count
	// that time (Conn.RoomWait): how long the server held the writer back, apart from the time
	// the writing goroutine waited for a processor.
	MeasureRoomWait bool
}

// ConnectError is a namespace CONNECT refused by the server (a CONNECT_ERROR packet).
type ConnectError struct {
	Message string
}

func (e *ConnectError) Error() string { return "connect_error: " + e.Message }

var (
	// ErrClosed is the error of a connection closed by Close.
	ErrClosed = errors.New("loadgen: connection closed")
	// ErrServerDisconnect is the error of a connection whose namespace the server disconnected.
	ErrServerDisconnect = errors.New("loadgen: disconnected by the server")
	// ErrEngineClosed is the error of a connection the server closed with an Engine.IO close.
	ErrEngineClosed = errors.New("loadgen: closed by the server")
	errNoPing       = errors.New("loadgen: no ping from the server in time")
)

// Conn is one Engine.IO websocket connection attached to a single Socket.IO namespace. Its
// reader goroutine answers pings and hands events to DialOptions.OnEvent. Emit may be called
// from any goroutine.
type Conn struct {
	ws       *websocket.Conn
	nsp      string
	onEvent  func(event, payload []byte)
	wtimeout time.Duration
	// pingWait is how long the reader waits for the next ping before giving up.
	pingWait time.Duration
	// room counts the time writes waited for room (DialOptions.MeasureRoomWait), or is nil.
	room interface{ RoomWait() time.Duration }

	wmu  sync.Mutex
	wbuf []byte

	closeOnce  sync.Once
	done       chan struct{}
	err        error         // set before done is closed
	readerDone chan struct{} // closed when the reader goroutine has returned
}

// Dial opens a websocket to the relay, completes the Engine.IO handshake and connects to the
// namespace with the auth object. It returns a *ConnectError when the server refuses the
// namespace. Events that arrive after Dial returns go to opts.OnEvent.
func Dial(ctx context.Context, opts DialOptions) (*Conn, error) {
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 10 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.ReadBufferSize <= 0 {
		opts.ReadBufferSize = 4096
	}
	if opts.WriteBufferSize <= 0 {
		opts.WriteBufferSize = 1024
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = 16 << 20
	}
	if opts.Namespace == "" {
		opts.Namespace = "/"
	}
	if opts.OnEvent == nil {
		opts.OnEvent = func(event, payload []byte) {}
	}
	u, err := engineURL(opts.URL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.HandshakeTimeout)
	defer cancel()
	d := websocket.Dialer{
		HandshakeTimeout: opts.HandshakeTimeout,
		ReadBufferSize:   opts.ReadBufferSize,
		WriteBufferSize:  opts.WriteBufferSize,
	}
	nd := &net.Dialer{}
	if opts.LocalAddr != "" {
		ip := net.ParseIP(opts.LocalAddr)
		if ip == nil {
			return nil, fmt.Errorf("loadgen: bad local address %q", opts.LocalAddr)
		}
		nd.LocalAddr = &net.TCPAddr{IP: ip}
		d.NetDialContext = nd.DialContext
	}
	var open []byte
	if opts.Polling {
		var sid string
		if open, sid, err = pollOpen(ctx, u, d.NetDialContext); err != nil {
			return nil, err
		}
		u += "&sid=" + url.QueryEscape(sid)
	}
	var room interface{ RoomWait() time.Duration }
	if opts.MeasureRoomWait {
		d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialRoomConn(ctx, nd, network, addr)
			room, _ = c.(interface{ RoomWait() time.Duration })
			return c, err
		}
	}
	ws, resp, err := d.DialContext(ctx, u, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("loadgen: dial %s: %w", u, err)
	}
	ws.SetReadLimit(opts.MaxMessageBytes)
	c := &Conn{
		ws:         ws,
		nsp:        opts.Namespace,
		onEvent:    opts.OnEvent,
		wtimeout:   opts.WriteTimeout,
		room:       room,
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	if err := c.handshake(ctx, open, opts.Auth); err != nil {
		ws.Close()
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

// engineURL turns a relay base URL into the Engine.IO websocket URL.
func engineURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("loadgen: bad URL %q: %w", base, err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("loadgen: bad URL %q: scheme must be http, https, ws or wss", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/socket.io/"
	u.RawQuery = "EIO=4&transport=websocket"
	return u.String(), nil
}

var (
	keyPingInterval = []byte(`"pingInterval":`)
	keyPingTimeout  = []byte(`"pingTimeout":`)
	keyMessage      = []byte(`"message":`)
)

// handshake reads the Engine.IO open packet (or, given the open packet of a session that started
// on polling, upgrades the session to the websocket), sends the namespace CONNECT and waits for
// its answer, all before ctx's deadline.
func (c *Conn) handshake(ctx context.Context, open, auth []byte) error {
	deadline, _ := ctx.Deadline()
	if err := c.ws.SetReadDeadline(deadline); err != nil {
		return err
	}
	buf := open
	var err error
	if open != nil {
		if err = c.upgrade(); err != nil {
			return err
		}
	} else if buf, err = c.read(buf); err != nil {
		return fmt.Errorf("loadgen: open packet: %w", err)
	}
	if len(buf) == 0 || buf[0] != eioOpen {
		return fmt.Errorf("loadgen: expected an open packet, got %.40q", buf)
	}
	interval, ok1 := intField(buf, keyPingInterval)
	timeout, ok2 := intField(buf, keyPingTimeout)
	if !ok1 || !ok2 || interval <= 0 || timeout <= 0 {
		return fmt.Errorf("loadgen: open packet without ping settings: %.200q", buf)
	}
	// Allow one missed ping and some scheduling slack before declaring the server gone.
	c.pingWait = time.Duration(interval+timeout)*time.Millisecond + 5*time.Second

	connect := []byte{eioMessage, sioConnect}
	if c.nsp != "/" {
		connect = append(connect, c.nsp...)
		connect = append(connect, ',')
	}
	connect = append(connect, auth...)
	if err := c.write(connect); err != nil {
		return fmt.Errorf("loadgen: connect: %w", err)
	}
	for {
		if buf, err = c.read(buf[:0]); err != nil {
			return fmt.Errorf("loadgen: waiting for %s connect: %w", c.nsp, err)
		}
		switch {
		case len(buf) == 0:
		case buf[0] == eioPing:
			if err := c.write([]byte{eioPong}); err != nil {
				return err
			}
		case buf[0] == eioClose:
			return ErrEngineClosed
		case buf[0] == eioMessage:
			p, err := parsePacket(buf[1:])
			if err != nil || string(p.nsp) != c.nsp {
				continue
			}
			switch p.typ {
			case sioConnect:
				return c.ws.SetReadDeadline(time.Now().Add(c.pingWait))
			case sioConnectError:
				msg, ok := stringField(p.data, keyMessage)
				if !ok {
					msg = strings.Trim(string(p.data), `"`)
				}
				return &ConnectError{Message: msg}
			case sioDisconnect:
				return ErrServerDisconnect
			}
		}
	}
}

// read reads one whole text message into buf (reusing its capacity).
func (c *Conn) read(buf []byte) ([]byte, error) {
	for {
		mt, r, err := c.ws.NextReader()
		if err != nil {
			return buf[:0], err
		}
		if mt != websocket.TextMessage {
			// Binary frames carry attachments, which the relay never sends: skip them.
			if _, err := io.Copy(io.Discard, r); err != nil {
				return buf[:0], err
			}
			continue
		}
		buf = buf[:0]
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				return buf, nil
			}
			if err != nil {
				return buf, err
			}
		}
	}
}

// readLoop reads until the connection ends, answering pings and dispatching events.
func (c *Conn) readLoop() {
	defer close(c.readerDone)
	buf := make([]byte, 0, 1024)
	var err error
	for {
		if buf, err = c.read(buf); err != nil {
			c.finish(err)
			return
		}
		if len(buf) == 0 {
			continue
		}
		switch buf[0] {
		case eioPing:
			_ = c.ws.SetReadDeadline(time.Now().Add(c.pingWait))
			if err := c.write([]byte{eioPong}); err != nil {
				c.finish(err)
				return
			}
		case eioClose:
			c.finish(ErrEngineClosed)
			return
		case eioMessage:
			p, perr := parsePacket(buf[1:])
			if perr != nil || string(p.nsp) != c.nsp {
				continue
			}
			switch p.typ {
			case sioEvent:
				name, arg, err := splitEvent(p.data)
				if err == nil {
					c.onEvent(name, arg)
				}
			case sioDisconnect:
				c.finish(ErrServerDisconnect)
				return
			case sioConnectError:
				msg, _ := stringField(p.data, keyMessage)
				c.finish(&ConnectError{Message: msg})
				return
			}
		}
	}
}

// finish records why the connection ended and closes it (once).
func (c *Conn) finish(err error) {
	c.closeOnce.Do(func() {
		if errors.Is(err, net.ErrClosed) {
			err = ErrClosed
		}
		c.err = err
		c.ws.Close()
		close(c.done)
	})
}

// write sends one text frame.
func (c *Conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(b)
}

func (c *Conn) writeLocked(b []byte) error {
	if err := c.ws.SetWriteDeadline(time.Now().Add(c.wtimeout)); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// Emit sends an event with one argument, payload, which must be valid JSON (nil sends none).
func (c *Conn) Emit(event string, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = appendEventPacket(c.wbuf[:0], c.nsp, event, payload)
	return c.writeLocked(c.wbuf)
}

// RoomWait returns the time the connection's writes have waited for room in the socket's send
// buffer so far, and false when it is not measured (DialOptions.MeasureRoomWait).
func (c *Conn) RoomWait() (time.Duration, bool) {
	if c.room == nil {
		return 0, false
	}
	return c.room.RoomWait(), true
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err tells why the connection ended (ErrClosed after Close); nil while it is open.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close closes the connection and waits for its reader goroutine to return (which it does at
// once, the socket being closed), so no OnEvent call runs after Close. It is safe to call more
// than once, but not from OnEvent.
func (c *Conn) Close() {
	c.finish(ErrClosed)
	<-c.readerDone
}
