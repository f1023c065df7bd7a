package basiq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatementsUploadStreamsAMultipartForm(t *testing.T) {
	a := newCoreAPI(t)
	var form *multipart.Form
	var partType string
	var lengths []int64
	a.handleFunc(http.MethodPost, "/users/u1/statements", func(req *http.Request) (*http.Response, error) {
		lengths = append(lengths, req.ContentLength)
		ct, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
		if err != nil || ct != "multipart/form-data" {
			return coreJSON(http.StatusBadRequest, coreEnvelope("invalid-content", "not a form", ct)), nil
		}
		mr := multipart.NewReader(req.Body, params["boundary"])
		form, err = mr.ReadForm(1 << 20)
		if err != nil {
			return nil, err
		}
		if fh := form.File["statement"]; len(fh) == 1 {
			partType = fh[0].Header.Get("Content-Type")
		}
		return coreJSON(http.StatusAccepted, `{"type":"job","id":"stmt-job","links":{"self":"https://au-api.basiq.io/jobs/stmt-job"}}`), nil
	})
	c := newCoreClient(t, a)
	file := strings.Repeat("%PDF-1.4 page\n", 10000)
	job, err := c.Statements.Upload(context.Background(), "u1", "AU01001", `march "2024".pdf`, onlyReader{strings.NewReader(file)})
	require.NoError(t, err)
	assert.Equal(t, "stmt-job", job.ID)
	require.NotNil(t, form)
	assert.Equal(t, []string{"AU01001"}, form.Value["institutionId"])
	require.Len(t, form.File["statement"], 1)
	assert.Equal(t, `march "2024".pdf`, form.File["statement"][0].Filename)
	assert.Equal(t, "application/pdf", partType)
	f, err := form.File["statement"][0].Open()
	require.NoError(t, err)
	got, _ := io.ReadAll(f)
	assert.Equal(t, file, string(got))
	r := a.apiRequests()[0]
	assert.Equal(t, []string{"application/json"}, r.Header.Values("Accept"))
	assert.Zero(t, lengths[0], "a reader of unknown length: no Content-Length (net/http sends it chunked)")

	// A reader that tells its length: the request says it too.
	_, err = c.Statements.Upload(context.Background(), "u1", "AU01001", "s.csv", strings.NewReader("date,amount\n"))
	require.NoError(t, err)
	require.Len(t, lengths, 2)
	assert.Equal(t, int64(len(a.apiRequests()[1].Body)), lengths[1])
	assert.Equal(t, "text/csv", partType)

	for _, bad := range []struct{ user, inst, name string }{{"", "AU01001", "a.pdf"}, {"u1", "", "a.pdf"}, {"u1", "AU01001", ""}, {"u1", "AU01001", "a\nb.pdf"}} {
		_, err := c.Statements.Upload(context.Background(), bad.user, bad.inst, bad.name, strings.NewReader("x"))
		assert.ErrorIs(t, err, ErrInvalidInput)
	}
	_, err = c.Statements.Upload(context.Background(), "u1", "AU01001", "a.pdf", nil)
	assert.ErrorIs(t, err, ErrInvalidInput)
	assert.Len(t, a.apiRequests(), 2)
}

func TestStatementsUploadIsNeverRetried(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		acted  bool
		is     error
	}{
		{"5xx: the server may have acted", http.StatusServiceUnavailable, coreEnvelope("service-unavailable", "down", "down"), true, ErrUnavailable},
		{"429: refused before acting", http.StatusTooManyRequests, coreEnvelope("too-many-requests", "slow down", "slow down"), false, ErrRateLimited},
		{"400: refused", http.StatusBadRequest, coreEnvelope("parameter-not-valid", "bad", "institutionId"), false, ErrInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newCoreAPI(t)
			a.handle(http.MethodPost, "/users/u1/statements", tc.status, tc.body)
			c := newCoreClient(t, a)
			job, err := c.Statements.Upload(context.Background(), "u1", "AU01001", "s.csv", strings.NewReader("date,amount\n"))
			assert.Nil(t, job)
			var up *UploadError
			require.ErrorAs(t, err, &up)
			assert.Equal(t, tc.acted, up.MayHaveActed)
			assert.ErrorIs(t, err, tc.is)
			assert.Len(t, a.apiRequests(), 1, "sent once, never retried")
		})
	}
}

func TestStatementsUploadReaderFailure(t *testing.T) {
	var uploads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" {
			fmt.Fprint(w, `{"access_token":"tok","expires_in":3600,"token_type":"Bearer"}`)
			return
		}
		uploads.Add(1)
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"type":"job","id":"never"}`)
	}))
	defer srv.Close()
	c, err := NewClient(coreAPIKey, WithBaseURL(srv.URL), WithRetryPolicy(fastRetries))
	require.NoError(t, err)
	broken := errors.New("disk on fire")
	job, err := c.Statements.Upload(context.Background(), "u1", "AU01001", "s.pdf", io.MultiReader(strings.NewReader("%PDF"), errReader{broken}))
	assert.Nil(t, job)
	var up *UploadError
	require.ErrorAs(t, err, &up)
	assert.False(t, up.MayHaveActed, "a form cut short is nothing to act on")
	assert.ErrorIs(t, err, broken)
	assert.LessOrEqual(t, uploads.Load(), int32(1))
}

func TestStatementsUploadDoesNotReadTheFileAfterReturning(t *testing.T) {
	tr := &lateReader{proceed: make(chan struct{}), done: make(chan error, 1)}
	c, err := NewClient(coreAPIKey, WithHTTPClient(&http.Client{Transport: tr}), WithBaseURL(coreBaseURL), WithRetryPolicy(fastRetries))
	require.NoError(t, err)
	file := &countingReader{}
	_, err = c.Statements.Upload(context.Background(), "u1", "AU01001", "s.pdf", file)
	var up *UploadError
	assert.False(t, errors.As(err, &up), "nothing was read: a plain error")
	assert.ErrorIs(t, err, ErrInvalidInput)
	close(tr.proceed) // the transport reads the body now, after Upload returned
	assert.ErrorIs(t, <-tr.done, errUploadEnded)
	assert.Zero(t, file.reads.Load(), "the caller's reader is theirs again")
}
