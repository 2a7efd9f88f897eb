package wstransport

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/slices"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// transport is one websocket connection of the engine server.
type transport struct {
	transports.Transport

	opts *Options
	wsc  *types.WebSocketConn
	conn net.Conn
	idle time.Duration
	// limit is the largest message the client may send (Limits.Raise raises it).
	limit atomic.Int64

	mu      sync.Mutex
	out     *[]byte // frames waiting for the writer (from the pool); nil when there are none
	drains  int     // Send calls in out: the engine expects one "drain" event for each
	writing bool    // the writer goroutine runs
	closing bool    // close once the writer has written what it holds
	closeFn types.Callable
	closed  bool
}

func newTransport(ctx *types.HttpContext, opts *Options) *transport {
	t := &transport{Transport: transports.MakeTransport(), opts: opts}
	t.Prototype(t)
	t.Construct(ctx)
	return t
}

// Construct implements transports.Transport: it takes over the upgraded connection and starts
// the reader once the engine allows it.
func (t *transport) Construct(ctx *types.HttpContext) {
	t.Transport.Construct(ctx)
	t.idle = ctx.IdleTimeout
	t.wsc = ctx.Websocket
	t.conn = t.wsc.NetConn()
	t.limit.Store(t.opts.Limits.Small())
	_ = t.wsc.On("error", func(errs ...any) {
		t.OnError("websocket error", slices.TryGetAny[error](errs, 0))
	})
	_ = t.wsc.Once("close", func(...any) { t.OnClose() })
	t.SetWritable(true)
	t.SetPerMessageDeflate(nil)
	transports.StartReader(t, ctx.TransportReadPermission(), t.read)
}

// Name implements transports.Transport.
func (t *transport) Name() string { return transports.WEBSOCKET }

// HandlesUpgrades implements transports.Transport.
func (t *transport) HandlesUpgrades() bool { return true }

// Send implements transports.Transport: it frames the packets into the connection's buffer and
// makes sure the writer runs. It never blocks on the network, so the transport stays writable
// and everything sent while a write is under way goes out together in the next one.
func (t *transport) Send(packets []*packet.Packet) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	buf := t.buffer()
	for _, p := range packets {
		*buf = t.appendPacket(*buf, p)
	}
	t.drains++
	t.startWriter()
}

// control queues a control frame (pong, close) behind the frames already queued.
func (t *transport) control(op byte, payload []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	buf := t.buffer()
	*buf = appendFrame(*buf, op, payload)
	t.startWriter()
}

// buffer returns the buffer of queued frames, taking one from the pool if there is none; the
// caller holds mu.
func (t *transport) buffer() *[]byte {
	if t.out == nil {
		t.out = getBuffer()
	}
	return t.out
}

// startWriter starts the writer unless it runs; the caller holds mu.
func (t *transport) startWriter() {
	if !t.writing {
		t.writing = true
		go t.write()
	}
}

// appendPacket appends the websocket frame of one Engine.IO packet.
func (t *transport) appendPacket(dst []byte, p *packet.Packet) []byte {
	if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
		switch f := p.Options.WsPreEncodedFrame.(type) {
		case *Frame:
			return append(dst, f.wire...)
		case *types.StringBuffer:
			return appendFrame(dst, opText, f.Bytes())
		default:
			return appendFrame(dst, opBinary, f.Bytes())
		}
	}
	data, err := t.Parser().EncodePacket(p, t.SupportsBinary())
	if err != nil {
		t.opts.Logger.Debug("websocket packet not encoded", "error", err)
		return dst
	}
	op := byte(opBinary)
	if _, ok := data.(*types.StringBuffer); ok {
		op = opText
	}
	return appendFrame(dst, op, data.Bytes())
}

// write is the writer goroutine: it writes everything queued in one write at a time until the
// queue is empty, then ends, returning its buffer to the pool.
func (t *transport) write() {
	for {
		t.mu.Lock()
		buf, drains := t.out, t.drains
		t.out, t.drains = nil, 0
		if buf == nil {
			t.writing = false
			closing, fn := t.closing, t.closeFn
			t.mu.Unlock()
			if closing {
				t.shut(fn)
			}
			return
		}
		t.mu.Unlock()
		_ = t.conn.SetWriteDeadline(time.Now().Add(t.opts.WriteTimeout))
		_, err := t.conn.Write(*buf)
		putBuffer(buf)
		if err != nil {
			t.mu.Lock()
			t.writing = false
			t.mu.Unlock()
			t.fail("websocket write failed", err)
			return
		}
		for range drains {
			t.Emit("drain")
		}
	}
}

// DoClose implements transports.Transport: the connection closes once the frames already queued
// are written (a write is bounded by WriteTimeout), at once when the engine discarded it.
func (t *transport) DoClose(fn types.Callable) {
	t.mu.Lock()
	if t.writing && !t.closed && !t.Discarded() {
		t.closing = true
		t.closeFn = fn
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	t.shut(fn)
}

// closeAfterWrites closes the connection once the queued frames are written.
func (t *transport) closeAfterWrites() {
	t.mu.Lock()
	if t.writing && !t.closed {
		t.closing = true
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	t.shut(nil)
}

func (t *transport) shut(fn types.Callable) {
	if fn != nil {
		fn()
	}
	_ = t.wsc.Close()
}

// OnClose implements transports.Transport: it releases the queued frames and the connection on
// every close path.
func (t *transport) OnClose() {
	t.mu.Lock()
	t.closed = true
	if t.out != nil {
		putBuffer(t.out)
		t.out = nil
	}
	t.mu.Unlock()
	t.Transport.OnClose()
	_ = t.wsc.Close()
}

// fail reports a connection error to the engine (a close of the connection is not an error)
// and closes the connection once what is queued (a close frame, say) is written.
func (t *transport) fail(reason string, err error) {
	if !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
		t.opts.Logger.Debug(reason, "address", t.conn.RemoteAddr().String(), "error", err)
		t.OnError(reason, err)
	}
	t.closeAfterWrites()
}

// bufferPool holds the write buffers of connections that have nothing to write.
var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooled is the largest buffer kept for reuse; larger ones (a snapshot) go to the collector.
const maxPooled = 256 << 10

func getBuffer() *[]byte {
	b := bufferPool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooled {
		bufferPool.Put(b)
	}
}
