package webhook_test

import (
	"strings"
	"testing"

	"github.com/banklink-go/basiq"
	"github.com/banklink-go/basiq/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecrets(t *testing.T) {
	docExample := "whsec_MA4V6bD7rB0Hcm2aw8ghgDeQ5UAak24DwnX0rX6" // 39 chars, no padding (§8 Q8)
	good := []struct{ name, secret string }{
		{"prefixed", tv1.secret},
		{"bare", strings.TrimPrefix(tv1.secret, "whsec_")},
		{"Basiq's unpadded doc example", docExample},
		{"the same padded", docExample + "="},
		{"unpadded, needs two", "whsec_" + strings.TrimRight(base64Encode([]byte("sixteen bytes!!!")), "=")},
		{"padded, needs two", "whsec_" + base64Encode([]byte("sixteen bytes!!!"))},
		{"URL-safe alphabet", "whsec_" + strings.NewReplacer("+", "-", "/", "_").Replace(tv2.secret[len("whsec_"):])},
		{"WH3's example", "rfiuheo43934"},
		{"surrounding white space", " " + tv1.secret + "\n"},
	}
	for _, c := range good {
		_, err := webhook.NewVerifier(c.secret)
		assert.NoError(t, err, c.name)
	}
	// The URL-safe spelling of TV2's secret verifies TV2.
	urlSafe, err := webhook.NewVerifier(good[6].secret, fixedClock(tv2.at()))
	require.NoError(t, err)
	_, err = urlSafe.Verify(tv2.header(), []byte(tv2.body))
	assert.NoError(t, err)

	bad := []struct{ name, secret string }{
		{"empty", ""},
		{"prefix only", "whsec_"},
		{"padding only", "whsec_===="},
		{"white space", "   "},
		{"not base64", "whsec_not base64!"},
		{"one character", "whsec_A"},
		{"mixed alphabets", "whsec_ab+c-def"},
		{"padding inside", "whsec_ab=cd"},
		{"hex with punctuation", "whsec_s3cr3t:k3y"},
	}
	for _, c := range bad {
		v, err := webhook.NewVerifier(c.secret)
		assert.Nil(t, v, c.name)
		require.ErrorIs(t, err, basiq.ErrInvalidInput, c.name)
		if s := strings.TrimPrefix(c.secret, "whsec_"); len(strings.TrimSpace(s)) > 2 {
			assert.NotContains(t, err.Error(), s, "%s: the error quotes the secret", c.name)
		}
	}
}
