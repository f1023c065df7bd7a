package basiq_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/basiqtest"
)

// The user follows a remedy link and comes back: the return passes the same
// state check as the first one did (issue: "a remedy's return is rejected").
func TestRemedyReturnPassesTheStateCheck(t *testing.T) {
	srv, c, userID := v3Fake(t)
	f := failBighead(t, srv, c, userID)
	require.NotNil(t, f.Diagnosis.Consent)

	remedy, err := c.Consents.Link(t.Context(), userID, f.Diagnosis.Consent)
	require.NoError(t, err)
	srv.SetLoginOutcome("bighead", basiqtest.Outcome{})
	rd := consentAs(t, srv, remedy.URL, basiqtest.ConsentLogin{LoginID: "bighead", Password: "password"})
	assert.True(t, rd.StateMatches(remedy.State), "the remedy's return carries the remedy link's state")
	assert.NotEmpty(t, rd.JobIDs)
	assert.Empty(t, f.Diagnosis.Consent.State, "Link did not write its state into the Diagnosis")
}

func TestConsentsLinkMakesARandomStateOrKeepsTheGivenOne(t *testing.T) {
	_, c, userID := v3Fake(t)
	ctx := t.Context()
	a, err := c.Consents.Link(ctx, userID, nil)
	require.NoError(t, err)
	b, err := c.Consents.Link(ctx, userID, &basiq.ConsentURLOptions{Action: basiq.ConsentConnect})
	require.NoError(t, err)
	assert.Regexp(t, `^[A-Za-z0-9_-]{43}$`, a.State, "32 random bytes, base64url")
	assert.NotEqual(t, a.State, b.State)
	for _, l := range []basiq.ConsentLink{a, b} {
		u, err := url.Parse(l.URL)
		require.NoError(t, err)
		assert.Equal(t, l.State, u.Query().Get("state"), "the link carries its state")
		assert.NotEmpty(t, u.Query().Get("token"))
	}

	opts := &basiq.ConsentURLOptions{State: "session-42", ConnectionID: "conn-1"}
	given, err := c.Consents.Link(ctx, userID, opts)
	require.NoError(t, err)
	assert.Equal(t, "session-42", given.State)
	assert.Equal(t, &basiq.ConsentURLOptions{State: "session-42", ConnectionID: "conn-1"}, opts, "opts not modified")

	_, err = c.Consents.Link(ctx, "", nil)
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)
	var zero basiq.ConsentsService
	_, err = zero.Link(ctx, userID, nil)
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)
	var nilSvc *basiq.ConsentsService
	_, err = nilSvc.Link(ctx, userID, nil)
	assert.ErrorIs(t, err, basiq.ErrInvalidInput)
	v21, err := basiq.NewClient("a2V5", basiq.WithAPIVersion(basiq.V2_1))
	require.NoError(t, err)
	_, err = v21.Consents.Link(context.Background(), userID, nil)
	assert.ErrorIs(t, err, basiq.ErrUnsupportedVersion)
}

func TestConsentLinkNeverShowsItsToken(t *testing.T) {
	_, c, userID := v3Fake(t)
	l, err := c.Consents.Link(t.Context(), userID, nil)
	require.NoError(t, err)
	tok, _ := url.Parse(l.URL)
	token := tok.Query().Get("token")
	require.NotEmpty(t, token)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("link", "link", l, "links", []basiq.ConsentLink{l})
	slog.New(slog.NewTextHandler(&logged, nil)).Info("link", "link", l)
	j, err := json.Marshal(map[string]any{"l": l})
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprint(l), fmt.Sprintf("%+v", l), fmt.Sprintf("%#v", l), fmt.Sprintf("%s", l), logged.String(), string(j)} {
		assert.NotContains(t, s, token)
		assert.Contains(t, s, l.State)
		assert.Regexp(t, regexp.MustCompile(`token=(\[REDACTED\]|%5BREDACTED%5D)`), s)
	}
}
