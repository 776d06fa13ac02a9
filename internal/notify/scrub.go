package notify

import (
	"html"
	"net/url"
	"slices"
	"strings"
)

// minSecretLen is the shortest secret scrubbed, as in internal/logging:
// shorter values would blank out ordinary words.
const minSecretLen = 3

// scrubber replaces configured secrets in event strings with [REDACTED],
// also in the percent-encoded forms a URL in an error carries and the
// HTML-escaped form.
type scrubber struct{ r *strings.Replacer }

func newScrubber(secrets []string) *scrubber {
	var forms []string
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s), html.EscapeString(s))
	}
	if len(forms) == 0 {
		return nil
	}
	// strings.Replacer takes the first listed match at a position: longer
	// forms first, so a secret that is a prefix of another is not left
	// half-replaced.
	slices.SortFunc(forms, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	forms = slices.Compact(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, "[REDACTED]")
	}
	return &scrubber{r: strings.NewReplacer(pairs...)}
}

func (s *scrubber) str(v string) string {
	if s == nil || v == "" {
		return v
	}
	return s.r.Replace(v)
}
