package basiq

import (
	"net/url"
	"strings"
)

// URLs the API writes: Basiq names its own host in what it sends (a list's
// links.next, a webhook message's links.event) even when the client reaches
// it through a forwarding proxy (WithBaseURL). apiPath is the one place such
// a URL is mapped onto the client's base URL; nothing is ever sent to the
// host a URL names.

// basiqAPIHostPort is Basiq's own API host (DefaultBaseURL's) with its
// default port, as hostPort writes it.
const basiqAPIHostPort = "au-api.basiq.io:443"

// apiPath returns the escaped path of u below the API's root when u names
// the API, either on the client's base URL (its scheme, host, port and path
// prefix, which is taken off) or on Basiq's own API host (https,
// au-api.basiq.io, the default port), which is mapped onto the base URL. ok
// is false for any other URL: another scheme, host or port, or a path
// outside the base URL's prefix. u's credentials, query and fragment are
// not looked at.
func (c *Client) apiPath(u *url.URL) (path string, ok bool) {
	if strings.EqualFold(u.Scheme, c.baseURL.Scheme) && hostPort(u) == hostPort(c.baseURL) {
		if rest, ok := cutPathPrefix(u.EscapedPath(), c.baseURL.EscapedPath()); ok {
			return rest, true
		}
	}
	if strings.EqualFold(u.Scheme, "https") && hostPort(u) == basiqAPIHostPort {
		return u.EscapedPath(), true
	}
	return "", false
}

// onBaseURL is the escaped path below the API's root (from apiPath) on the
// client's base URL, with query, as a URL to request.
func (c *Client) onBaseURL(path, rawQuery string) (*url.URL, error) {
	raw := strings.TrimRight(c.baseURL.EscapedPath(), "/") + path
	p, err := url.PathUnescape(raw)
	if err != nil {
		return nil, err
	}
	return &url.URL{Scheme: c.baseURL.Scheme, Host: c.baseURL.Host, Path: p, RawPath: raw, RawQuery: rawQuery}, nil
}

// cutPathPrefix returns the escaped path p without the escaped path prefix
// prefix, comparing unescaped segments (so %2D and - are equal, but %2F never
// equals a segment boundary); ok is false when p is not below prefix.
func cutPathPrefix(p, prefix string) (rest string, ok bool) {
	prefix = strings.TrimRight(prefix, "/")
	if prefix == "" {
		return p, true
	}
	ps, gs := strings.Split(prefix, "/"), strings.Split(p, "/")
	if len(gs) < len(ps) {
		return "", false
	}
	for i := range ps {
		a, err1 := url.PathUnescape(ps[i])
		b, err2 := url.PathUnescape(gs[i])
		if err1 != nil || err2 != nil || a != b {
			return "", false
		}
	}
	rest = strings.Join(gs[len(ps):], "/")
	if rest != "" {
		rest = "/" + rest
	}
	return rest, true
}
