package demo

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// Browser plays an end user's browser against an application's handler, in
// memory: it keeps cookies, does not follow redirects by itself, and plays
// the user in Basiq's Consent UI through the fake (CompleteConsent).
type Browser struct {
	c    *http.Client
	fake *basiqtest.Server
	// Log, when set, gets a line per page the user goes through.
	Log io.Writer
}

// NewBrowser returns a browser for the application's handler h, whose
// Consent UI is the fake's, logging the pages it goes through to log (nil
// for none).
func NewBrowser(h http.Handler, fake *basiqtest.Server, log io.Writer) *Browser {
	jar, _ := cookiejar.New(nil) // never fails with nil options
	return &Browser{fake: fake, Log: log, c: &http.Client{Jar: jar, Transport: basiqtest.HandlerTransport(h),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// appBase is where the application is, for the browser.
const appBase = "https://app.example"

// Do sends a request to the application (a path, or a full URL on it) and
// returns its status, Location header and body.
func (b *Browser) Do(method, path string, form url.Values) (status int, location, body string, err error) {
	if !strings.HasPrefix(path, appBase) {
		path = appBase + path
	}
	req, err := http.NewRequest(method, path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), strings.TrimSpace(string(raw)), err
}

// Consent opens path on the application, which must redirect to the Consent
// UI; there the user does what opts say (basiqtest.CompleteConsent), and the
// browser follows Basiq's redirect back to the application. It returns the
// application's answer to that return.
func (b *Browser) Consent(path string, opts ...basiqtest.ConsentOption) (status int, body string, err error) {
	status, link, body, err := b.Do(http.MethodGet, path, nil)
	if err != nil || status != http.StatusFound {
		return status, body, fmt.Errorf("%s did not send the browser to the Consent UI (%d): %v %s", path, status, err, body)
	}
	b.logf("GET %s → the Consent UI: %s\n", path, basiq.RedactURL(link))
	back, err := b.fake.CompleteConsent(link, opts...)
	if err != nil {
		return 0, "", err
	}
	status, _, body, err = b.Do(http.MethodGet, back, nil)
	b.logf("Back at the application (%d): %s\n", status, body)
	return status, body, err
}

func (b *Browser) logf(format string, args ...any) {
	if b.Log != nil {
		fmt.Fprintf(b.Log, format, args...)
	}
}
