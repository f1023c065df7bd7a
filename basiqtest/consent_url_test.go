package basiqtest_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/banklink-go/basiq/basiqtest"
)

// FuzzConsentURL feeds the Consent UI hostile URLs: whatever follows a valid
// token, and any state. The fake never panics, never quotes the token in an
// error or a page, echoes a state it accepts verbatim, and rejects with one
// of its errors.
func FuzzConsentURL(f *testing.F) {
	for _, seed := range [][2]string{
		{"", "plain"},
		{"&action=connect", "a&b=c"},
		{"&action=null&institutionId=AU00000", "#frag"},
		{"&token=again", "%zz"},
		{"#x", "\x00\xff"},
		{"&state=%", "<script>alert(1)</script>"},
		{"&connectionId=../../users&userId=x", strings.Repeat("é", 3000)},
		{"&action=manage&action=extend", "+ +"},
		{";x=1", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	e := newConsentEnv(f)
	page := &http.Client{Transport: e.srv.Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	f.Fuzz(func(t *testing.T, tail, state string) {
		known := []error{basiqtest.ErrConsentURL, basiqtest.ErrConsentToken, basiqtest.ErrNoActiveConsent, basiqtest.ErrConsentOptions}
		isKnown := func(err error) bool {
			for _, k := range known {
				if errors.Is(err, k) {
					return true
				}
			}
			return false
		}

		// Any state: echoed exactly, or refused when over the limit.
		redirect, err := e.srv.CompleteConsent(consentURL(e.client, "state", state), basiqtest.WithConsentCancel())
		switch {
		case len(state) > 4096:
			if !errors.Is(err, basiqtest.ErrConsentURL) {
				t.Fatalf("state of %d bytes: %v", len(state), err)
			}
		case err != nil:
			t.Fatalf("state %q: %v", state, err)
		default:
			u, perr := url.Parse(redirect)
			if perr != nil || u.Query().Get("state") != state || u.Host != "app.example" {
				t.Fatalf("state %q came back as %q", state, redirect)
			}
		}

		// Anything after the token.
		raw := "https://consent.basiq.io/home?token=" + e.client + tail
		if _, err := e.srv.CompleteConsent(raw, basiqtest.WithConsentCancel()); err != nil {
			if !isKnown(err) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			if strings.Contains(err.Error(), e.client) {
				t.Fatalf("the token leaked into %q", err)
			}
			if !utf8.ValidString(err.Error()) {
				t.Fatalf("error is not UTF-8: %q", err)
			}
		}

		// The same query on the consent page.
		req, err := http.NewRequest("GET", e.srv.ConsentPageURL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = "token=" + e.client + tail
		res, err := page.Do(req)
		if err != nil {
			return // the request itself is not valid HTTP
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusBadRequest {
			t.Fatalf("page answered %d", res.StatusCode)
		}
		if strings.Contains(string(body), e.client) {
			t.Fatal("the token is in the page")
		}
		if strings.Contains(string(body), "<script>") {
			t.Fatal("unescaped markup in the page")
		}
	})
}
