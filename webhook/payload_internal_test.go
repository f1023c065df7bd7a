package webhook

import (
	"strings"
	"testing"
)

func body1k() []byte {
	item := `{"type":"event","id":"5a47115a7eed80a3b68761b725b78c75892e94cef06810ecc0e2e7b856700000",` +
		`"createdDate":"2024-04-17T23:57:17Z","entity":"connection","eventType":"updated","userId":"84e33255-f65f-4f05-953b-1b12e1e4d90b",` +
		`"data":{"type":"connection","id":"8bd4f752-0000","status":"active","mfaEnabled":false,"createdDate":"2024-04-17T23:57:17Z",` +
		`"lastUsed":"2024-04-17T23:57:17Z","institution":{"type":"institution","id":"AU00000","links":{"self":"https://au-api.basiq.io/institutions/AU00000"}},` +
		`"links":{"self":"https://au-api.basiq.io/users/84e33255-f65f-4f05-953b-1b12e1e4d90b/connections/8bd4f752-0000"}}}`
	var b strings.Builder
	b.WriteString(`{"eventTypeId":"connection.updated","eventId":"44a85f64-5717-4562-b3fc-2c963f66af44",` +
		`"links":{"event":"https://au-api.basiq.io/events/44a85f64-5717-4562-b3fc-2c963f66af44",` +
		`"eventEntity":"https://au-api.basiq.io/users/88a85f64-5717-4562-b3fc-2c963f66af88/connections/8bd4f752"},"data":[`)
	b.WriteString(item)
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkParsePayload is the payload reader alone on a fat 1 KiB body.
func BenchmarkParsePayload(b *testing.B) {
	body := body1k()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var m Message
		if !parsePayload(body, &m) {
			b.Fatal("x")
		}
	}
}
