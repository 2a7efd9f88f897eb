package push

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Policy decides which push endpoints the relay sends to. The relay makes HTTP requests to URLs
// its users give it, so by default only https endpoints on public addresses are accepted:
// nothing on loopback, link-local, private or otherwise special ranges, checked when a browser
// subscribes and again on every connection (a name that resolves to such an address is refused
// too), and redirects are never followed. URL prefixes in Allow admit other endpoints (a push
// service inside a private network, or a test's local endpoint).
type Policy struct {
	allow []string
}

// NewPolicy returns the policy admitting, besides public https endpoints, those that start with
// one of the allow prefixes (each an http or https URL with a host).
func NewPolicy(allow []string) (Policy, error) {
	var p Policy
	for _, a := range allow {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		u, err := url.Parse(a)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Policy{}, fmt.Errorf("push endpoint prefix %q must be an http or https URL", a)
		}
		p.allow = append(p.allow, a)
	}
	return p, nil
}

// allowed reports whether an endpoint is admitted by a configured prefix.
func (p Policy) allowed(endpoint string) bool {
	for _, a := range p.allow {
		if strings.HasPrefix(endpoint, a) {
			return true
		}
	}
	return false
}

// Check reports why the relay will not send to an endpoint, or nil when it will.
func (p Policy) Check(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return &InputError{Message: "Invalid push endpoint: not an http(s) URL"}
	}
	if p.allowed(endpoint) {
		return nil
	}
	if u.Scheme != "https" {
		return &InputError{Message: "Invalid push endpoint: must be an https:// URL"}
	}
	if u.User != nil {
		return &InputError{Message: "Invalid push endpoint: must not carry credentials"}
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || !strings.Contains(host, ".") && net.ParseIP(host) == nil {
		return &InputError{Message: "Invalid push endpoint: must name a public host"}
	}
	if ip, err := netip.ParseAddr(host); err == nil && !public(ip) {
		return &InputError{Message: "Invalid push endpoint: must not target a private, loopback or link-local address"}
	}
	return nil
}

// special are the ranges a push endpoint may not resolve to besides those netip classifies:
// "this network", shared address space (carrier-grade NAT), IETF protocol assignments,
// documentation, benchmarking, reserved and broadcast, and the IPv6 equivalents.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
}

// public reports whether ip is an ordinary public unicast address.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range special {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// errRefusedAddress is the dial error for an endpoint that resolved to an address Policy refuses.
var errRefusedAddress = errors.New("push endpoint resolves to a non-public address")

// allowedKey marks a request context whose endpoint a configured prefix admits.
type allowedKey struct{}

// client returns the HTTP client pushes are sent with: no proxy, no redirects, a timeout on
// every request, and connections only to public addresses unless the request's context says a
// prefix admitted its endpoint. The two kinds of request use separate transports, so that a
// connection opened for an admitted endpoint is never reused for another.
func (p Policy) client(timeout time.Duration) httpDoer {
	guard := func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !public(ap.Addr()) {
			return errRefusedAddress
		}
		return nil
	}
	return routedClient{admitted: newClient(timeout, nil), guarded: newClient(timeout, guard)}
}

// newClient is an HTTP client whose dialer runs control on every connection it opens.
func newClient(timeout time.Duration, control func(network, address string, c syscall.RawConn) error) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: timeout,
		},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// routedClient sends a request whose context is marked by requestContext on the admitted client,
// any other on the guarded one.
type routedClient struct{ admitted, guarded *http.Client }

// Do implements httpDoer.
func (c routedClient) Do(req *http.Request) (*http.Response, error) {
	if req.Context().Value(allowedKey{}) != nil {
		return c.admitted.Do(req)
	}
	return c.guarded.Do(req)
}

// requestContext marks ctx for the dialer when a prefix admits the endpoint.
func (p Policy) requestContext(ctx context.Context, endpoint string) context.Context {
	if p.allowed(endpoint) {
		return context.WithValue(ctx, allowedKey{}, true)
	}
	return ctx
}
