package wstransport

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// transport is one websocket connection of the engine server.
type transport struct {
	transports.Transport

	opts *Options
	conn net.Conn
	idle time.Duration
	// limit is the largest message the client may send (Limits.Raise raises it).
	limit atomic.Int64
	// upgraded is set once the engine has handled the client's upgrade packet on this
	// transport, see Direct.
	upgraded atomic.Bool
	// readNext is t.read, bound once: the reader goes on in a new goroutine after every
	// message, and `go t.read()` allocates a closure each time.
	readNext func()
	// scratch is the reader's buffer for frame headers (on the stack it escaped into the
	// connection's Read, an allocation per message).
	scratch [14]byte

	// backlog is the bytes of frames queued or being written, frames over LargeFrame aside.
	backlog atomic.Int64
	// since is when the write under way started (unix nanoseconds), 0 between writes.
	since atomic.Int64

	mu      sync.Mutex
	queue   *frameList // frames waiting for the writer (nil when none): shared broadcast frames are not copied
	drains  int        // Send calls in queue: the engine expects one "drain" event for each
	writing bool       // the connection waits for a writer of the pool, or a writer writes to it
	// raw is the socket a writer of the pool writes to without waiting (nil: the connection
	// has a writer goroutine of its own); rawKnown says whether it was looked up.
	raw      syscall.RawConn
	rawKnown bool
	closing  bool // close once the writer has written what it holds
	closeFn  types.Callable
	closed   bool
	// ctx and wsc are the upgrade's request and the library's websocket, which carries the
	// connection's close to the engine while it initializes the transport; the reader drops
	// both when it starts (see detach).
	ctx *types.HttpContext
	wsc *types.WebSocketConn
}

func newTransport(ctx *types.HttpContext, opts *Options) *transport {
	t := &transport{Transport: transports.MakeTransport(), opts: opts}
	t.readNext = t.read
	t.Prototype(t)
	t.Construct(ctx)
	return t
}

// Construct implements transports.Transport: it takes over the upgraded connection and starts
// the reader once the engine allows it.
func (t *transport) Construct(ctx *types.HttpContext) {
	t.Transport.Construct(ctx)
	t.idle = ctx.IdleTimeout
	t.ctx, t.wsc = ctx, ctx.Websocket
	t.conn = t.wsc.NetConn()
	t.limit.Store(t.opts.Limits.Small())
	_ = t.wsc.Once("close", func(...any) { t.OnClose() })
	t.SetWritable(true)
	t.SetPerMessageDeflate(nil)
	transports.StartReader(t, ctx.TransportReadPermission(), t.start)
}

// start starts the reader once the engine has initialized the transport.
func (t *transport) start() {
	t.detach()
	t.read()
}

// detach drops the library's websocket, which the engine only needs while it initializes the
// transport: the transport reads and writes the network connection itself, and gorilla's
// connection holds a read and a write buffer (2.4 KiB with its bufio.Reader) that it never
// uses. The request keeps no reference to it either, since the engine keeps the request of a
// session's first transport for the session's life.
func (t *transport) detach() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.ctx.Websocket = nil
	// The engine's initialization timer, stopped, may still refer to the library's websocket
	// until the runtime drops it, which it does lazily; nothing calls the websocket any more.
	t.wsc.Conn = nil
	t.ctx, t.wsc = nil, nil
}

// Name implements transports.Transport.
func (t *transport) Name() string { return transports.WEBSOCKET }

// HandlesUpgrades implements transports.Transport.
func (t *transport) HandlesUpgrades() bool { return true }

// Send implements transports.Transport: it queues the packets' frames and makes sure the writer
// runs. It never blocks on the network, so the transport stays writable and everything sent
// while a write is under way goes out together in the next one.
func (t *transport) Send(packets []*packet.Packet) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	var n int64
	for _, p := range packets {
		if f := t.frame(p); f != nil {
			t.enqueue(&f)
			n += counted(f)
		}
	}
	t.backlog.Add(n)
	t.drains++
	t.startWriter()
}

// WriteFrame queues a frame without the engine (see Direct); it reports false when the
// connection is closed.
func (t *transport) WriteFrame(f *Frame) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.enqueue(&f.wire)
	t.backlog.Add(counted(f.wire))
	t.startWriter()
	return true
}

// control queues a control frame (pong, close) behind the frames already queued.
func (t *transport) control(op byte, payload []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	f := appendFrame(nil, op, payload)
	t.enqueue(&f)
	t.startWriter()
}

// enqueue appends a frame to the queue; the caller holds mu.
func (t *transport) enqueue(f *[]byte) {
	if t.queue == nil {
		t.queue = getList()
	}
	t.queue.frames = append(t.queue.frames, f)
}

// startWriter hands the connection to a writer unless one has it: to the pool's, or to a
// goroutine of its own when its socket cannot be written to without waiting; the caller holds mu.
func (t *transport) startWriter() {
	if t.writing {
		return
	}
	t.writing = true
	if !t.rawKnown {
		var err error
		t.raw, err = rawConnOf(t.conn)
		t.rawKnown = true
		if err != nil {
			t.opts.Logger.Debug("websocket unsent bytes not bounded", "error", err)
		}
	}
	if t.raw == nil {
		go t.write()
		return
	}
	writers.push(t)
}

// frame returns the websocket frame of one Engine.IO packet: a broadcast's shared frame, or one
// framed now.
func (t *transport) frame(p *packet.Packet) []byte {
	if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
		switch f := p.Options.WsPreEncodedFrame.(type) {
		case *Frame:
			return f.wire
		case *types.StringBuffer:
			return appendFrame(nil, opText, f.Bytes())
		default:
			return appendFrame(nil, opBinary, f.Bytes())
		}
	}
	data, err := t.Parser().EncodePacket(p, t.SupportsBinary())
	if err != nil {
		t.opts.Logger.Debug("websocket packet not encoded", "error", err)
		return nil
	}
	op := byte(opBinary)
	if _, ok := data.(*types.StringBuffer); ok {
		op = opText
	}
	return appendFrame(make([]byte, 0, data.Len()+maxHeader), op, data.Bytes())
}

// serve is a turn of the pool's writer at the connection: it writes what is queued as far as the
// socket takes it without waiting, and reports whether the connection goes back in line (more
// was queued meanwhile). When the socket buffer is full, the rest goes to a goroutine of the
// connection's own (finish), which waits for the client to take it and writes what follows
// until the queue is empty; a client that takes nothing for WriteTimeout is disconnected.
func (t *transport) serve() bool {
	list, drains, ok := t.take()
	if !ok {
		return false
	}
	n := countFrames(list.frames)
	done, off, err := writeNow(t.raw, list.frames, 0)
	if err == nil && done < len(list.frames) {
		t.since.Store(time.Now().UnixNano())
		go t.finish(list, done, off, n, drains)
		return false
	}
	if !t.written(list, n, drains, err) {
		return false
	}
	t.mu.Lock()
	if t.queue != nil && len(t.queue.frames) > 0 {
		t.mu.Unlock()
		return true
	}
	t.goIdle()
	return false
}

// finish is the writer of a connection whose socket was full: it writes the rest of a list
// (from frame done, byte off), then whatever is queued, until the queue is empty; then the
// connection goes back to the pool.
func (t *transport) finish(list *frameList, done, off int, n int64, drains int) {
	err := t.writeAll(list.frames[done:], off)
	_ = t.conn.SetWriteDeadline(time.Time{}) // the pool's writes must not inherit it
	if t.written(list, n, drains, err) {
		t.write()
	}
}

// write is the writer goroutine of a connection the pool does not write to (or whose socket was
// full): it writes everything queued, in one system call where the connection allows (writev
// on TCP), until the queue is empty; then it ends and keeps nothing: the lists of frames go back
// to a pool.
func (t *transport) write() {
	for {
		list, drains, ok := t.take()
		if !ok {
			return
		}
		n := countFrames(list.frames)
		t.since.Store(time.Now().UnixNano())
		err := t.writeAll(list.frames, 0)
		if t.raw != nil {
			_ = t.conn.SetWriteDeadline(time.Time{})
		}
		if !t.written(list, n, drains, err) {
			return
		}
	}
}

// take takes the queued frames and the number of Send calls they answer; when none are queued
// it lets the connection go idle (closing it if asked to) and reports false.
func (t *transport) take() (*frameList, int, bool) {
	t.mu.Lock()
	list, drains := t.queue, t.drains
	if list == nil || len(list.frames) == 0 {
		t.goIdle()
		return nil, 0, false
	}
	t.queue, t.drains = nil, 0
	t.mu.Unlock()
	return list, drains, true
}

// goIdle marks the connection as having no writer, unlocks mu (which the caller holds) and closes
// the connection if it was to be closed once written.
func (t *transport) goIdle() {
	list := t.queue
	t.queue = nil
	t.writing = false
	closing, fn := t.closing, t.closeFn
	t.mu.Unlock()
	putList(list)
	if closing {
		t.shut(fn)
	}
}

// written accounts for a list of frames written (n bytes counted), answers the Send calls it
// held with "drain" events, and reports whether the writer goes on: after a failed write it
// reports the error and closes the connection.
func (t *transport) written(list *frameList, n int64, drains int, err error) bool {
	t.since.Store(0)
	t.backlog.Add(-n)
	putList(list)
	if err != nil {
		t.mu.Lock()
		t.writing = false
		t.mu.Unlock()
		t.fail("websocket write failed", err)
		return false
	}
	for range drains {
		t.Emit("drain")
	}
	return true
}

func countFrames(frames []*[]byte) int64 {
	var n int64
	for _, f := range frames {
		n += counted(*f)
	}
	return n
}

// maxBatch is the most frames one writev takes: the runtime keeps each connection's largest
// vector of buffers for the connection's life (16 bytes a frame), and a few hundred frames already
// fill a socket buffer.
const maxBatch = 128

// writeAll writes the frames, the first from byte off, with a deadline: as writev on TCP (one for
// up to maxBatch frames), else copied into one buffer.
func (t *transport) writeAll(frames []*[]byte, off int) error {
	_ = t.conn.SetWriteDeadline(time.Now().Add(t.opts.WriteTimeout))
	// writev consumes the vector it is given (*vec); base keeps the pooled array whole.
	vec := vecPool.Get().(*net.Buffers)
	base := (*vec)[:0]
	defer func() {
		clear(base[:cap(base)])
		*vec = base
		vecPool.Put(vec)
	}()
	_, tcp := t.conn.(*net.TCPConn)
	for len(frames) > 0 {
		*vec = base
		for _, f := range frames[:min(len(frames), maxBatch)] {
			*vec = append(*vec, (*f)[off:])
			off = 0
		}
		frames = frames[len(*vec):]
		if tcp || len(*vec) == 1 {
			if _, err := vec.WriteTo(t.conn); err != nil {
				return err
			}
			continue
		}
		b := getBuffer()
		for _, f := range *vec {
			*b = append(*b, f...)
		}
		_, err := t.conn.Write(*b)
		putBuffer(b)
		if err != nil {
			return err
		}
	}
	return nil
}

// vecPool holds the vectors of buffers the writers hand to writev, maxBatch long.
var vecPool = sync.Pool{New: func() any { v := make(net.Buffers, 0, maxBatch); return &v }}

// LargeFrame is the size over which a frame does not count towards a connection's backlog: one
// snapshot of several MB is not a client falling behind, and large messages are rare and bounded
// by the maximum message size.
const LargeFrame = 64 << 10

func counted(f []byte) int64 {
	if len(f) > LargeFrame {
		return 0
	}
	return int64(len(f))
}

// Backlog returns the bytes queued on a transport of this package and not yet written, frames
// over LargeFrame aside, and how long the write under way has been blocked (0 when none is): a
// client that does not take what it is sent shows both growing, while a backlog without a
// blocked write only waits for the writer to be scheduled. ok is false for another transport.
func Backlog(t transports.Transport) (n int64, blocked time.Duration, ok bool) {
	w, ok := t.(*transport)
	if !ok {
		return 0, 0, false
	}
	return w.Backlog()
}

// Backlog implements Writer.
func (t *transport) Backlog() (n int64, blocked time.Duration, ok bool) {
	if since := t.since.Load(); since != 0 {
		blocked = time.Duration(time.Now().UnixNano() - since)
	}
	return t.backlog.Load(), blocked, true
}

// Writer writes frames straight to a websocket, behind everything queued on it.
type Writer interface {
	// WriteFrame queues a frame; it reports false when the connection is closed.
	WriteFrame(f *Frame) bool
	// Backlog is as the function Backlog.
	Backlog() (n int64, blocked time.Duration, ok bool)
}

// Direct returns the websocket of an Engine.IO session that may be written to without the
// engine, which saves the engine's packet, callbacks and events on every message. A frame written
// here stays in order with the packets the engine sends, because the engine hands those to this
// transport as they are sent (the transport is always writable), with one exception: while a
// session that started on polling upgrades, the engine holds the packets sent meanwhile, and
// flushes them to the websocket once the client's upgrade packet made it the session's transport.
// So an upgraded session is written to directly only after that: the engine makes the transport
// the session's and flushes what it held before it returns from the upgrade packet, and the
// reader marks the transport upgraded once it has handed the engine that packet. Until then the
// session's packets go through the engine (Direct reports false), in order behind the held ones.
func Direct(s engine.Socket) (Writer, bool) {
	t, ok := s.Transport().(*transport)
	if !ok || s.Upgraded() && !t.upgraded.Load() {
		return nil, false
	}
	return t, true
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
	t.mu.Lock()
	wsc := t.wsc
	t.mu.Unlock()
	if wsc != nil {
		_ = wsc.Close() // its "close" event calls OnClose
		return
	}
	t.OnClose()
}

// OnClose implements transports.Transport: it releases the queued frames and the connection on
// every close path.
func (t *transport) OnClose() {
	t.mu.Lock()
	t.closed = true
	t.queue = nil // the writer, if it runs, finds nothing more; the list is left to the collector
	wsc := t.wsc
	t.ctx, t.wsc = nil, nil
	t.mu.Unlock()
	_ = t.conn.Close()
	t.Transport.OnClose()
	if wsc != nil {
		_ = wsc.Close()
	}
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

// frameList is a queue of frames. Each entry points at a frame's bytes: a broadcast Frame's
// own (a queued broadcast costs its connection 8 bytes), or a packet framed for this connection.
// The lists are pooled: a connection that is written to several times a second and goes idle
// between writes would otherwise allocate a list for each write, and grow it by doubling, which
// was most of the relay's garbage under load.
type frameList struct{ frames []*[]byte }

var listPool = sync.Pool{New: func() any { return &frameList{frames: make([]*[]byte, 0, 16)} }}

// maxPooledList is the most frames a pooled list holds room for; larger lists (a viewer that
// fell far behind) go to the collector.
const maxPooledList = 4096

func getList() *frameList { return listPool.Get().(*frameList) }

// reset empties the list and drops its references to frames.
func (l *frameList) reset() {
	clear(l.frames)
	l.frames = l.frames[:0]
}

func putList(l *frameList) {
	if l != nil && cap(l.frames) <= maxPooledList {
		l.reset()
		listPool.Put(l)
	}
}

// bufferPool holds the buffers that coalesce frames for connections without writev.
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
