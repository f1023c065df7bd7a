package basiq

import (
	"fmt"
	"log/slog"
)

// secret holds a credential (the API key). Formatted or logged itself it
// prints [REDACTED]. fmt cannot call methods on unexported fields, so a
// struct keeps a *secret: nested pointers are printed as addresses.
type secret string

func (s secret) String() string             { return redacted }
func (s secret) GoString() string           { return redacted }
func (s secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }
func (s secret) LogValue() slog.Value       { return slog.StringValue(redacted) }

func newSecret(v string) *secret {
	s := secret(v)
	return &s
}

// reveal returns the secret itself, for the one place it is sent.
func (s secret) reveal() string { return string(s) }
