package notify

import (
	"strings"

	"github.com/cantina-pos/cantina-ops/internal/logging"
)

// scrubber replaces configured secrets in event strings with [REDACTED],
// in the forms logging.Redactor knows (raw, percent-encoded, HTML-escaped).
type scrubber struct{ r *strings.Replacer }

func newScrubber(secrets []string) *scrubber {
	r := logging.Redactor(secrets)
	if r == nil {
		return nil
	}
	return &scrubber{r: r}
}

func (s *scrubber) str(v string) string {
	if s == nil || v == "" {
		return v
	}
	return s.r.Replace(v)
}
