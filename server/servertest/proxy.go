package servertest

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of nodes that can move to another one: Switch closes every open
// connection (as a node failure or a load balancer change would) and sends new ones elsewhere.
type Proxy struct {
	URL string
	ln  net.Listener

	mu     sync.Mutex
	target string
	conns  map[net.Conn]bool
}

// NewProxy listens on a free loopback port and forwards to node.
func NewProxy(t testing.TB, node *Node) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), ln: ln, target: hostOf(node.URL), conns: map[net.Conn]bool{}}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.closeAll()
	})
	return p
}

func hostOf(url string) string { return strings.TrimPrefix(url, "http://") }

// Switch sends new connections to node and cuts the open ones.
func (p *Proxy) Switch(node *Node) {
	p.mu.Lock()
	p.target = hostOf(node.URL)
	p.mu.Unlock()
	p.closeAll()
}

func (p *Proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go pipe(c, up)
		go pipe(up, c)
	}
}

func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}
