package basiqtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/banklink-go/basiq/basiqtest"
)

// BenchmarkCompleteConsent is one consent URL checked and answered: the
// default flow with one login (a connection and its job) and a cancel (the
// URL's checks and the redirect alone), with a 1 KiB state.
func BenchmarkCompleteConsent(b *testing.B) {
	state := strings.Repeat("s&=#", 256)
	for _, bc := range []struct {
		name string
		opt  basiqtest.ConsentOption
	}{
		{"login", basiqtest.WithConsentLogins(login("AU00000", "gavinBelson", "hooli2016"))},
		{"cancel", basiqtest.WithConsentCancel()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newConsentEnv(b, basiqtest.WithRequestLogLimit(0))
			u := consentURL(e.client, "state", state)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.srv.CompleteConsent(u, bc.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConsentPage is one view of the consent page (checks, a session,
// the HTML) over the in-memory transport.
func BenchmarkConsentPage(b *testing.B) {
	e := newConsentEnv(b)
	u := e.srv.ConsentPageURL() + "?token=" + e.client + "&state=abc"
	b.ReportAllocs()
	for b.Loop() {
		res, err := e.srv.Client().Get(u)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}
