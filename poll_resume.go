package basiq

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// resumePrefix names the token's format and version.
const resumePrefix = "bqpoll1."

// maxResumeToken bounds a token accepted by ResumePoller.
const maxResumeToken = 8 << 10

// resumeState is what a resume token carries: ids and progress, no secrets.
type resumeState struct {
	Job      string            `json:"j"`
	Op       Operation         `json:"o,omitempty"`
	Inst     string            `json:"i,omitempty"`
	Attempt  int               `json:"a,omitempty"`
	Seen     map[string]string `json:"s,omitempty"`
	Prompted map[string]string `json:"m,omitempty"`  // step → signature of the MFA prompt reported
	FailedAt int64             `json:"f,omitempty"`  // unix seconds: first seen failing while following Basiq's retries
	Follow   bool              `json:"r,omitempty"`  // PollOptions.FollowBasiqRetries
	Interval int64             `json:"ri,omitempty"` // PollOptions.RetryInterval, in seconds, when following
}

// ResumeToken returns an opaque string from which Jobs.ResumePoller (in this
// or another process) continues polling: the job id, the operation, the
// institution, the steps already reported, the attempt, and whether (and how
// often) to follow Basiq's retries. It holds no secret.
func (p *Poller) ResumeToken() (string, error) {
	if err := p.ready(); err != nil {
		return "", err
	}
	st := resumeState{Job: p.jobID, Op: p.opts.Operation, Inst: p.instID, Attempt: p.opts.Attempt}
	if p.opts.FollowBasiqRetries {
		st.Follow = true
		st.Interval = int64(p.opts.RetryInterval / time.Second)
	}
	if len(p.seen) > 0 {
		st.Seen = make(map[string]string, len(p.seen))
		for k, v := range p.seen {
			st.Seen[string(k)] = string(v)
		}
	}
	if len(p.prompted) > 0 {
		st.Prompted = make(map[string]string, len(p.prompted))
		for k, v := range p.prompted {
			st.Prompted[string(k)] = v
		}
	}
	if !p.failedAt.IsZero() && p.opts.FollowBasiqRetries {
		st.FailedAt = p.failedAt.Unix()
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("basiq: encoding resume token: %w", err)
	}
	body := base64.RawURLEncoding.EncodeToString(payload)
	return resumePrefix + body + "." + resumeChecksum(body), nil
}

func resumeChecksum(body string) string {
	sum := sha256.Sum256([]byte(resumePrefix + body))
	return base64.RawURLEncoding.EncodeToString(sum[:6])
}

// ResumePoller returns a Poller that continues from a ResumeToken. Steps
// reported before the token was taken are not reported again (an MFA prompt
// still unanswered is, by Steps and WaitForStep). Non-zero Operation,
// InstitutionID, Attempt and RetryInterval in opts override the token's, and
// FollowBasiqRetries is on when either the token or opts asks for it; the
// other fields of opts apply as given. A token that is garbled, truncated or
// not from this SDK is an error matching ErrInvalidInput.
func (s *JobsService) ResumePoller(token string, opts *PollOptions) (*Poller, error) {
	st, err := decodeResumeToken(token)
	if err != nil {
		return nil, err
	}
	o := PollOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Operation == "" {
		o.Operation = st.Op
	}
	if o.InstitutionID == "" {
		o.InstitutionID = st.Inst
	}
	if o.Attempt == 0 {
		o.Attempt = st.Attempt
	}
	if st.Follow {
		o.FollowBasiqRetries = true
		if o.RetryInterval <= 0 {
			o.RetryInterval = time.Duration(st.Interval) * time.Second
		}
	}
	p := s.Poller(st.Job, &o)
	for k, v := range st.Seen {
		p.seen[StepName(k)] = StepStatus(v)
	}
	for k, v := range st.Prompted {
		p.prompted[StepName(k)] = v
	}
	if st.FailedAt > 0 {
		p.failedAt = time.Unix(st.FailedAt, 0)
	}
	return p, nil
}

func decodeResumeToken(token string) (resumeState, error) {
	var st resumeState
	bad := func(why string) (resumeState, error) {
		return resumeState{}, invalidInput("resume token: %s", why)
	}
	if len(token) > maxResumeToken {
		return bad("too long")
	}
	if !strings.HasPrefix(token, resumePrefix) {
		if strings.HasPrefix(token, "bqpoll") {
			return bad("unsupported version (from a newer SDK?)")
		}
		return bad("not a basiq poller resume token")
	}
	body, sum, ok := strings.Cut(strings.TrimPrefix(token, resumePrefix), ".")
	if !ok || sum != resumeChecksum(body) {
		return bad("checksum mismatch (garbled or truncated)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return bad("bad encoding")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return bad("bad payload")
	}
	if err := validateID("job id", st.Job); err != nil {
		return bad("invalid job id")
	}
	switch st.Op {
	case OpUnknown, OpCreate, OpRefresh, OpUpdate:
	default:
		return bad("unknown operation")
	}
	if st.Attempt < 0 || st.FailedAt < 0 || st.Interval < 0 || st.Interval > int64(basiqRetryWindow/time.Second) ||
		len(st.Seen) > 64 || len(st.Prompted) > 64 {
		return bad("out of range")
	}
	return st, nil
}
