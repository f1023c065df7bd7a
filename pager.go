package basiq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"net"
	"net/url"
	"strings"
)

// Paging: Basiq's lists that page (transactions, events, webhook messages)
// answer with a page of items and an absolute links.next to the following
// page, absent on the last. listAll walks such a list lazily, one page in
// memory at a time, every page through Client.do (tokens, retries, typed
// errors, logging, the body limit).

var (
	// ErrUntrustedLink: a response's links.next pointed somewhere the SDK
	// does not follow: another scheme, host or port than the client's base
	// URL (a link on Basiq's own API host, https://au-api.basiq.io, is
	// followed on the base URL: a proxy set with WithBaseURL leaves Basiq's
	// links as they are), another path than the list's, credentials in the
	// URL, or a URL that does not parse. Nothing was sent there (no token left the
	// client); the iteration ends with this error.
	ErrUntrustedLink = errors.New("basiq: links.next is not a page of the same list on the API")
	// ErrPagingLoop: the API's paging did not move on: links.next pointed
	// at a page already fetched, a page repeated the items of the one
	// before it, or too many empty pages came in a row. The iteration ends
	// with this error instead of looping.
	ErrPagingLoop = errors.New("basiq: paging loop")
)

// maxEmptyPages bounds the empty pages in a row a list may send before
// listAll gives up (a server handing out ever new cursors to nothing).
const maxEmptyPages = 16

// listSource is how listAll reads one kind of list of T.
type listSource[T any] struct {
	// shape is the wire form of an item (extra.go).
	shape *shape
	// items returns the decoder of one page's items, given its data array
	// ("[...]"): each call decodes the next item, given the members its
	// shape does not know. An error means the item is malformed (the
	// iteration then ends with that error).
	items func(data []byte) func(extra extraMembers) (T, error)
}

// listPage is the out value of one page's Client.do: the page as walked,
// keeping its data array (in the body). Items are decoded one at a time as
// they are yielded, so a page costs its body and one item, never the body
// and all its items.
type listPage struct {
	shape   *shape
	observe func(body []byte) // Client.pageDecoded
	page    scannedPage
	next    string
	decoded bool
}

func (p *listPage) decodeJSON(b []byte) error {
	pg, err := scanListPage(b, p.shape)
	if err != nil {
		return err
	}
	if len(pg.links) > 0 {
		var links struct {
			Next *string `json:"next"`
		}
		if json.Unmarshal(pg.links, &links) != nil {
			return errors.New("the page's links.next is not a string")
		}
		if links.Next != nil {
			p.next = *links.Next
		}
	}
	p.page, p.decoded = pg, true
	if p.observe != nil {
		p.observe(b)
	}
	return nil
}

// listAll yields every item of the list whose first page first requests,
// following links.next. It fetches a page only when the caller has taken
// every item of the one before, and stops fetching when the caller stops.
// Any error (a request that failed after its retries, a malformed page or
// item, an untrusted link, a loop) is yielded once, last.
func listAll[T any](ctx context.Context, c *Client, first apiRequest, src listSource[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if err := c.ready(); err != nil {
			yield(zero, err)
			return
		}
		firstPath, firstURL, err := c.requestTarget(first)
		if err != nil {
			yield(zero, err)
			return
		}
		seen := map[uint64]struct{}{hashString(firstURL): {}}
		r := first
		var prevKeys uint64
		empty := 0
		for pageNo := 1; ; pageNo++ {
			pg := &listPage{shape: src.shape, observe: c.pageDecoded}
			if _, err := c.do(ctx, r, pg); err != nil {
				yield(zero, err)
				return
			}
			if !pg.decoded {
				yield(zero, fmt.Errorf("basiq: GET %s: page %d has an empty body", firstPath, pageNo))
				return
			}
			items := pg.page.items
			if len(items) == 0 {
				if empty++; empty > maxEmptyPages && pg.next != "" {
					yield(zero, fmt.Errorf("%w: %d empty pages in a row from GET %s", ErrPagingLoop, empty, firstPath))
					return
				}
			} else {
				empty = 0
				if pageNo > 1 && pg.page.keys == prevKeys {
					yield(zero, fmt.Errorf("%w: page %d of GET %s repeats page %d", ErrPagingLoop, pageNo, firstPath, pageNo-1))
					return
				}
				prevKeys = pg.page.keys
			}
			next := src.items(pg.page.data)
			for i := range items {
				it := &items[i]
				t, err := next(it.extra)
				if err == nil && it.notObject {
					err = errors.New("not a JSON object")
				}
				if err != nil {
					yield(zero, fmt.Errorf("basiq: GET %s: page %d, item %d: %w", firstPath, pageNo, i+1, err))
					return
				}
				if !yield(t, nil) {
					return
				}
			}
			nextURL := pg.next
			pg.page = scannedPage{} // the next page replaces this one in memory
			if nextURL == "" {
				return
			}
			link, err := c.checkNextLink(firstPath, nextURL)
			if err != nil {
				yield(zero, err)
				return
			}
			h := hashString(link.url)
			if _, dup := seen[h]; dup {
				yield(zero, fmt.Errorf("%w: page %d of GET %s links back to a page already fetched", ErrPagingLoop, pageNo, firstPath))
				return
			}
			seen[h] = struct{}{}
			r = first
			r.next = link
		}
	}
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// nextLink is a checked links.next: the URL to request and its escaped
// path, for errors.
type nextLink struct {
	url  string
	path string
}

// checkNextLink accepts raw, a response's links.next (absolute, or relative
// to the base URL), only when it is a page of the same list on the same API
// (apiPath): on the base URL's scheme, host and port (default ports made
// explicit), or on Basiq's own API host, which a forwarding proxy set with
// WithBaseURL leaves in Basiq's links and which is mapped onto the base URL
// (that host is never contacted); no credentials; and the same path as the
// first page, segment by segment (dot segments are never equal to a
// validated id). Its query, Basiq's opaque cursor, is passed on verbatim; a
// fragment is dropped.
func (c *Client) checkNextLink(firstPath, raw string) (*nextLink, error) {
	untrusted := func(why string) error {
		// The link itself is not quoted: it came from the server and may be long.
		return fmt.Errorf("%w: GET %s: links.next %s; not followed", ErrUntrustedLink, firstPath, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, untrusted("does not parse as a URL")
	}
	if !u.IsAbs() && u.Host == "" && u.Opaque == "" {
		u = c.baseURL.ResolveReference(u)
	}
	if u.Opaque != "" {
		return nil, untrusted("is not a hierarchical URL")
	}
	if u.User != nil {
		return nil, untrusted("carries credentials")
	}
	path, onAPI := c.apiPath(u)
	switch {
	case !onAPI:
		return nil, untrusted("points at another scheme, host, port or path prefix than the base URL's or Basiq's API")
	case !samePath(path, firstPath):
		return nil, untrusted("points at another path than the list's")
	}
	next, err := c.onBaseURL(path, u.RawQuery)
	if err != nil {
		return nil, untrusted("does not parse as a URL")
	}
	return &nextLink{url: next.String(), path: next.EscapedPath()}, nil
}

// hostPort is u's lower-cased host with its port, the scheme's default when
// none is given.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// samePath reports whether the escaped paths got and want are the same,
// comparing unescaped segments (so %2D and - are equal, but %2F never equals
// a segment boundary).
func samePath(got, want string) bool {
	gs, ws := strings.Split(got, "/"), strings.Split(want, "/")
	if len(gs) != len(ws) {
		return false
	}
	for i := range gs {
		g, err1 := url.PathUnescape(gs[i])
		w, err2 := url.PathUnescape(ws[i])
		if err1 != nil || err2 != nil || g != w {
			return false
		}
	}
	return true
}

// plainItems decodes a page's items one at a time with encoding/json (the
// item type's own UnmarshalJSON), for lists whose items keep no Extra; valid
// rejects an item that is not one (an error envelope's member, say).
func plainItems[T any](valid func(*T) error) func(data []byte) func(extraMembers) (T, error) {
	return func(data []byte) func(extraMembers) (T, error) {
		dec := json.NewDecoder(bytes.NewReader(data))
		opened := false
		return func(extraMembers) (T, error) {
			var t T
			if !opened {
				if _, err := dec.Token(); err != nil { // the array's '['
					return t, err
				}
				opened = true
			}
			if err := dec.Decode(&t); err != nil {
				return t, err
			}
			return t, valid(&t)
		}
	}
}

// rawShape is the shape of an item whose known members are all kept as
// raw JSON by its own decoder: only the names matter (to leave Extra empty).
func rawShape(names ...string) *shape {
	fields := make(map[string]*shape, len(names))
	for _, n := range names {
		fields[n] = leaf(shapeRaw)
	}
	return newShape(objectShape(fields))
}
