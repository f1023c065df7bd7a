package webhook

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/banklink-go/basiq"
)

// secretPrefix starts Standard Webhooks secrets ("whsec_<base64>").
const secretPrefix = "whsec_"

const redacted = "[REDACTED]"

// decodeSecret decodes a webhook secret tolerantly: surrounding white space
// and a "whsec_" prefix are dropped, "=" padding is optional, and the
// URL-safe alphabet is accepted as well as the standard one (Basiq's own
// documentation shows an unpadded 39-character secret).
// Its errors never quote the secret.
func decodeSecret(secret string) ([]byte, error) {
	s := strings.TrimSpace(secret)
	s = strings.TrimPrefix(s, secretPrefix)
	s = strings.TrimRight(s, "=")
	if s == "" {
		return nil, fmt.Errorf("%w: webhook secret is empty", basiq.ErrInvalidInput)
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	key, err := enc.DecodeString(s)
	if err != nil { // not wrapped: base64's error names an offset into the secret
		return nil, fmt.Errorf("%w: webhook secret is not base64 (whsec_ followed by base64, or base64 alone)", basiq.ErrInvalidInput)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("%w: webhook secret decodes to no bytes", basiq.ErrInvalidInput)
	}
	return key, nil
}
