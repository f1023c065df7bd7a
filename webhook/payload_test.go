package webhook_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/webhook"
)

// referencePayload decodes body as json.Unmarshal would into a struct with
// the thin payload's fields, written independently of Verify's reader: the
// behaviour it must match.
// ok reports whether Verify must accept the body (valid JSON whose top level
// is an object).
func referencePayload(body []byte) (fields [4]string, ok bool) {
	if !json.Valid(body) || !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
		return fields, false
	}
	var ref struct {
		EventTypeID string `json:"eventTypeId"`
		EventID     string `json:"eventId"`
		Links       struct {
			Event       string `json:"event"`
			EventEntity string `json:"eventEntity"`
		} `json:"links"`
	}
	_ = json.Unmarshal(body, &ref) // type errors leave fields empty and decoding goes on
	return [4]string{ref.EventTypeID, ref.EventID, ref.Links.Event, ref.Links.EventEntity}, true
}

// expectedPayload is what Verify must make of a signed body: encoding/json's
// reading of it, and whether it is accepted.
func expectedPayload(body []byte) ([4]string, bool) { return referencePayload(body) }

func messageFields(m webhook.Message) [4]string {
	return [4]string{string(m.Type), m.EventID, m.EventURL, m.EntityURL}
}

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

// payloadCases: shapes encoding/json has rules for.
var payloadCases = []string{
	`{"eventTypeId":"user.created","eventId":"e1","links":{"event":"https://x/events/1","eventEntity":"https://x/users/u1"}}`,
	`{}`, ` { } `, "\t{\r\n}\n", `{"a":{}}`, `{"a":[]}`, `{"a":[1,[2,[3]]]}`,
	// A bracket where no value goes is garbage, not a value to skip (the
	// fuzzer found the first; the oracle had read it as a skipped value).
	`{"":1{}}`, `{"a":1[]}`, `{"eventId":"x"{}}`, `{"a":1,{}}`, `{{}}`, `{"links":{"event":"e"{}}}`, `{"a": {} }`,
	`{"":{}.0}`, `{"":[]e5}`, `{"":{}1}`, `{"":-{}}`, `{"eventTypeId":"a","eventTypeId":{}}`,
	`{"eventTypeId":5}`, `{"eventTypeId":null}`, `{"eventTypeId":true}`, `{"eventTypeId":{"a":1}}`, `{"eventTypeId":["x"]}`,
	`{"eventTypeId":"a","eventTypeId":"b"}`, `{"eventTypeId":"a","eventTypeId":7}`, `{"eventTypeId":"a","eventTypeId":null}`,
	`{"EVENTTYPEID":"upper"}`, `{"EventId":"x","eventid":"y"}`, `{"eventId":"x","EVENTID":"y"}`,
	`{"lin\u212as":{"event":"kelvin"}}`, `{"li\u006eks":{"\u0065vent":"escaped keys"}}`, "{\"lin\xe2\x84\xaas\":{\"event\":\"raw kelvin\"}}",
	`{"links":{"event":"a"},"links":{"eventEntity":"b"}}`, `{"links":{"event":"a"},"links":null}`, `{"links":{"event":"a"},"links":5}`,
	`{"links":{"event":"a"},"links":{"event":null}}`, `{"links":[{"event":"a"}]}`, `{"links":"https://x"}`,
	`{"links":{"links":{"event":"deep"}}}`, `{"x":{"eventTypeId":"nested"}}`, `{"eventTypeId":"a\"b\\c\/d\b\f\n\r\t"}`,
	`{"eventTypeId":"\u00e9\u4e2d\ud83d\ude00"}`, `{"eventTypeId":"\ud83d"}`, `{"eventTypeId":"\ud83d\u0041"}`, `{"eventTypeId":"\ude00\ud83d"}`,
	`{"eventTypeId":"\ud83d\ud83d\ude00"}`, "{\"eventTypeId\":\"\xff\xfe\"}", "{\"eventTypeId\":\"a\xc3\"}", "{\"eventTypeId\":\"\xed\xa0\x80\"}",
	`{"eventTypeId":"\uD83D\uDE00"}`, `{"eventTypeId":"\u0000"}`,
	`{"n":-0}`, `{"n":0.5e-7}`, `{"n":1E+2}`, `{"n":-}`, `{"n":01}`, `{"n":1.}`, `{"n":.5}`, `{"n":1e}`, `{"n":+1}`, `{"n":0x10}`,
	`{"n":tru}`, `{"n":nul}`, `{"n":falsey}`, `{"n":NaN}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12G4"}`, "{\"a\":\"\t\"}",
	`{"a":1,}`, `{,"a":1}`, `{"a" 1}`, `{"a":1 "b":2}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a"}`, `{1:2}`, `{"a":1}}`, `{"a":1}{}`,
	`{"a":"unterminated}`, `{"a":1`, `{`, `}`, ``, ` `, `null`, `[]`, `"s"`, `1`, `true`,
	"\xef\xbb\xbf{}", "{}\x00", "{\"a\":1}\u00a0",
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
