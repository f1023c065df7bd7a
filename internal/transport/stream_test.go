package transport

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStreamIsSentOnceWhateverTheAnswer(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusAccepted} {
		var calls atomic.Int32
		var got []string
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			calls.Add(1)
			b, _ := io.ReadAll(r.Body)
			got = append(got, string(b))
			return &http.Response{StatusCode: status, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
		})}
		tr := New(hc, Policy{MaxAttempts: 5}, 1<<20)
		resp, err := tr.Do(context.Background(), Request{Method: http.MethodPost, URL: testURL, Stream: strings.NewReader("file bytes"), StreamLength: 10})
		require.NoError(t, err)
		assert.Equal(t, status, resp.StatusCode)
		assert.EqualValues(t, 1, calls.Load(), "status %d: one attempt", status)
		assert.Equal(t, []string{"file bytes"}, got)
	}
}

func TestStreamLengthAndRewind(t *testing.T) {
	s := &onceStream{r: strings.NewReader("abcdef"), n: 6}
	r, err := s.open() // retryablehttp's look at the length
	require.NoError(t, err)
	assert.Equal(t, 6, r.(interface{ Len() int }).Len())
	r, err = s.open() // the attempt
	require.NoError(t, err)
	buf := make([]byte, 2)
	_, err = r.Read(buf)
	require.NoError(t, err)
	_, err = s.open() // net/http's rewind after part was read: refused
	assert.ErrorIs(t, err, ErrStreamRewound)

	u := &onceStream{r: strings.NewReader("x")}
	r, err = u.open()
	require.NoError(t, err)
	_, hasLen := r.(interface{ Len() int })
	assert.False(t, hasLen, "an unknown length is not claimed")
}
