package api

import (
	"net/http"
	"net/url"
	"strings"
)

// sameOrigin refuses (403) a state-changing request that a browser sent from a page of another
// origin. The session cookie is SameSite=Lax, which a page on another port of the same host does
// not count as cross-site, so the cookie alone does not prove where a request comes from: the
// Origin header does (and, without it, Sec-Fetch-Site). Requests with an API key need no check:
// a page cannot add the x-api-key header to a cross-origin request without a CORS preflight, which
// the API does not allow. Clients that are not browsers send neither header and are not affected.
func (a *api) sameOrigin(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if r.Header.Get("x-api-key") != "" {
		return nil
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		switch r.Header.Get("Sec-Fetch-Site") {
		case "", "same-origin", "none":
			return nil
		}
		return errorf(http.StatusForbidden, "Cross-site request refused")
	}
	if a.allowedOrigin(r, origin) {
		return nil
	}
	return errorf(http.StatusForbidden, "Cross-site request refused: origin "+origin+" is not allowed")
}

// allowedOrigin reports whether a page of origin may act with the session cookie: it is the
// origin of the host the request was sent to, or one of the configured origins.
func (a *api) allowedOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range a.Origins {
		if strings.EqualFold(strings.TrimRight(o, "/"), u.Scheme+"://"+u.Host) {
			return true
		}
	}
	return false
}
