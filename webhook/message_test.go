package webhook_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/webhook"
)

// verifySigned signs body with the test key at the current time and verifies it.
func verifySigned(t testing.TB, v *webhook.Verifier, body []byte) (webhook.Message, error) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	return v.Verify(headers("msg_p", ts, sign(testKey, "msg_p", ts, body)), body)
}

// checkAgainstReference asserts Verify's reading of a signed body matches
// encoding/json's.
func checkAgainstReference(t testing.TB, v *webhook.Verifier, body []byte) {
	t.Helper()
	m, err := verifySigned(t, v, body)
	want, ok := expectedPayload(body)
	if !ok {
		if err == nil || !strings.Contains(err.Error(), webhook.ErrInvalidPayload.Error()) {
			t.Fatalf("body %q: encoding/json rejects it, Verify returned %v", body, err)
		}
		if messageFields(m) != ([4]string{}) {
			t.Fatalf("body %q: invalid payload but fields %q", body, messageFields(m))
		}
		return
	}
	if err != nil {
		t.Fatalf("body %q: encoding/json accepts it, Verify returned %v", body, err)
	}
	if got := messageFields(m); got != want {
		t.Fatalf("body %q: fields %q, encoding/json %q", body, got, want)
	}
}

func TestPayloadMatchesEncodingJSON(t *testing.T) {
	v, err := webhook.NewVerifier(testSecret(), webhook.WithMaxBodySize(1<<20))
	require.NoError(t, err)
	for _, body := range payloadCases {
		checkAgainstReference(t, v, []byte(body))
	}
	// encoding/json's nesting limit is 10000: the reader's too.
	for _, depth := range []int{9999, 10000, 10001} {
		for _, open := range []string{"[", `{"a":`} {
			inner := strings.Repeat(open, depth-1) + "1" + strings.Repeat(map[string]string{"[": "]", `{"a":`: "}"}[open], depth-1)
			checkAgainstReference(t, v, []byte(`{"x":`+inner+`}`))
		}
	}
}

func TestPayloadBasiqExamples(t *testing.T) {
	v, err := webhook.NewVerifier(testSecret())
	require.NoError(t, err)
	// basiq-api-v3.md §6.2, and Basiq's test message (§6.1).
	m, err := verifySigned(t, v, []byte(`{ "eventTypeId": "user.created", "eventId": "44a85f64-5717-4562-b3fc-2c963f66af44",
  "links": { "event": "https://au-api.basiq.io/events/44a85f64-5717-4562-b3fc-2c963f66af44",
             "eventEntity": "https://au-api.basiq.io/users/88a85f64-5717-4562-b3fc-2c963f66af88" } }`))
	require.NoError(t, err)
	assert.Equal(t, basiq.EventUserCreated, m.Type)
	assert.Equal(t, "44a85f64-5717-4562-b3fc-2c963f66af44", m.EventID)
	assert.Equal(t, "88a85f64-5717-4562-b3fc-2c963f66af88", m.UserID())
	assert.Empty(t, m.ConnectionID())

	m, err = verifySigned(t, v, []byte(`{"eventTypeId":"user.created","Text":"My test message"}`))
	require.NoError(t, err)
	assert.Equal(t, basiq.EventUserCreated, m.Type)
	assert.Empty(t, m.EventURL)
}

func TestMessageIDsFromEntityURL(t *testing.T) {
	for entity, want := range map[string][2]string{
		"https://au-api.basiq.io/users/u1/connections/c1":          {"u1", "c1"},
		"https://au-api.basiq.io/users/u1/connections/c1/":         {"u1", "c1"},
		"https://au-api.basiq.io/users/u1":                         {"u1", ""},
		"https://au-api.basiq.io/users/u1/accounts/a1":             {"u1", ""},
		"https://au-api.basiq.io/users/":                           {"", ""},
		"https://au-api.basiq.io/users//connections/c1":            {"", "c1"},
		"https://au-api.basiq.io/users/u1/transactions?filter=x.y": {"u1", ""},
		"":       {"", ""},
		"%zz":    {"", ""},
		"/users": {"", ""},
	} {
		m := webhook.Message{EntityURL: entity}
		assert.Equal(t, want, [2]string{m.UserID(), m.ConnectionID()}, entity)
	}
}

// TestPayloadLeniency: Verify is lenient where encoding/json is (unknown
// members, members of another type, keys in another case) and strict where
// it is (syntax anywhere in the body, also inside members it does not read).
func TestPayloadLeniency(t *testing.T) {
	v, err := webhook.NewVerifier(testSecret())
	require.NoError(t, err)
	for body, accept := range map[string]bool{
		`{"eventId":"e","data":[1,2]}`:            true,
		`{"eventId":"e","data":{"a":1,"b":[{}]}}`: true,
		`{"eventId":"e","eventTypeId":5}`:         true, // a member of another type is left empty
		`{"EVENTID":"e","links":[1]}`:             true,
		`{"eventId":"e","links":{"event":[1,2]}}`: true,
		`{"eventId":"e","data":[1,]}`:             false, // syntax is checked everywhere
		`{"eventId":"e","data":{"a" 1 2}}`:        false,
		`{"eventId":"e","data":[tru, nul, 01]}`:   false,
		`{"eventId":"e","data":[1}`:               false,
		`{"eventId":"e","data":["\x"]}`:           false,
		"{\"eventId\":\"e\",\"data\":[\"\t\"]}":   false,
		`{"eventId":"e","data":[1]`:               false,
		`{"eventId":"e",}`:                        false,
		`{"eventId":"e","n":01}`:                  false,
		`{"eventId":"e","links":{"event":"x",}}`:  false,
		`{"eventId":"e","links":{"event":[1,]}}`:  false,
	} {
		m, err := verifySigned(t, v, []byte(body))
		if accept {
			require.NoError(t, err, body)
			assert.Equal(t, "e", m.EventID, body)
		} else {
			require.ErrorIs(t, err, webhook.ErrInvalidPayload, body)
			assert.Equal(t, [4]string{}, messageFields(m), body)
		}
		checkAgainstReference(t, v, []byte(body))
	}
}
