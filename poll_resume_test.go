package basiq_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/banklink-go/basiq"
)

// hardForgeResume wraps payload the way ResumeToken does (version prefix,
// base64url body, truncated SHA-256 checksum), so that the fuzzer reaches
// the payload checks behind the checksum.
func hardForgeResume(payload []byte) string {
	const prefix = "bqpoll1."
	body := base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(prefix + body))
	return prefix + body + "." + base64.RawURLEncoding.EncodeToString(sum[:6])
}

func FuzzResumeToken(f *testing.F) {
	c, err := basiq.NewClient("a2V5")
	if err != nil {
		f.Fatal(err)
	}
	valid := []string{}
	for _, id := range []string{"job-1", "ü/..", strings.Repeat("j", 256)} {
		tok, err := c.Jobs.Poller(id, &basiq.PollOptions{Operation: basiq.OpUpdate, InstitutionID: "AU00000", Attempt: 3}).ResumeToken()
		if err != nil {
			f.Fatal(err)
		}
		valid = append(valid, tok)
	}
	payloads := []string{
		`{"j":"job-1"}`,
		`{"j":"job-1","o":"create","i":"AU00002","a":2,"s":{"verify-credentials":"success","mfa-challenge":"in-progress"},"f":1700000000}`,
		`{"j":"job-1","o":"delete"}`, `{"j":"","o":"create"}`, `{"j":".."}`, `{"j":"x\n"}`, `{"j":"x","a":-1}`,
		`{"j":"x","f":-5}`, `{"j":"x","zz":1}`, `{"j":"x","s":{"a":1}}`, `{"j":"x","a":1e400}`, `{"j":"x"}{"j":"y"}`,
		`{"j":"x","f":9223372036854775807,"a":9223372036854775807}`, `null`, `[]`, ``,
	}
	for _, tok := range valid {
		f.Add(tok, []byte(payloads[0]))
		f.Add(tok[:len(tok)-1], []byte(payloads[1]))
		f.Add(strings.Replace(tok, "bqpoll1.", "bqpoll2.", 1), []byte(`{}`))
	}
	for _, p := range payloads {
		f.Add("", []byte(p))
	}
	f.Add("bqpoll1..", []byte(nil))
	f.Add("bqpoll1.e30.AAAAAAAA", []byte(nil))
	for _, b := range hardSpecExamples(f) {
		f.Add(string(b), b)
	}
	f.Fuzz(func(t *testing.T, token string, payload []byte) {
		for _, tok := range []string{token, hardForgeResume(payload)} {
			p, err := c.Jobs.ResumePoller(tok, nil)
			if err != nil {
				if !errors.Is(err, basiq.ErrInvalidInput) {
					t.Fatalf("ResumePoller error %v does not match ErrInvalidInput", err)
				}
				if p != nil {
					t.Fatal("a Poller with an error")
				}
				continue
			}
			if p.JobID() == "" {
				t.Fatal("resumed a poller with no job id")
			}
			t1, err := p.ResumeToken()
			if err != nil {
				t.Fatalf("ResumeToken of a resumed poller: %v", err)
			}
			p2, err := c.Jobs.ResumePoller(t1, nil)
			if err != nil {
				t.Fatalf("ResumePoller rejected its own token %q: %v", t1, err)
			}
			t2, err := p2.ResumeToken()
			if err != nil || t2 != t1 || p2.JobID() != p.JobID() {
				t.Fatalf("resume token does not round-trip:\n %q\n %q (%v)", t1, t2, err)
			}
			if _, err := c.Jobs.ResumePoller(t1, &basiq.PollOptions{Operation: basiq.OpRefresh, Attempt: 2}); err != nil {
				t.Fatalf("ResumePoller with options: %v", err)
			}
		}
	})
}

// TestHardResumeForgeryMatchesFormat keeps FuzzResumeToken honest: if the
// token format changes, hardForgeResume must change with it, or the fuzzer
// would only ever see checksum failures.
func TestHardResumeForgeryMatchesFormat(t *testing.T) {
	c, err := basiq.NewClient("a2V5")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Jobs.ResumePoller(hardForgeResume([]byte(`{"j":"job-1","o":"refresh","a":2}`)), nil)
	if err != nil {
		t.Fatalf("a forged well-formed token is rejected: %v", err)
	}
	if p.JobID() != "job-1" {
		t.Errorf("job id %q", p.JobID())
	}
	if _, err := c.Jobs.ResumePoller(hardForgeResume([]byte(`{"j":"job-1"}`))+"x", nil); !errors.Is(err, basiq.ErrInvalidInput) {
		t.Errorf("a token with a bad checksum: %v", err)
	}
}
