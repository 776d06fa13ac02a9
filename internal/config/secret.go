package config

import "log/slog"

// redacted is what a secret prints as, wherever it is printed.
const redacted = "[REDACTED]"

// Secret holds a password or token. It prints, logs and marshals as
// "[REDACTED]" so that a config struct can be logged or dumped without
// leaking it; Reveal returns the real value for the one place that needs it.
type Secret string

// Reveal returns the secret value. Call it only where the value is handed to
// a client library, never to format a message.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether a value was configured.
func (s Secret) IsSet() bool { return s != "" }

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler (used by JSON too).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
