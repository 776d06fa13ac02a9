package console

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// HSTSMaxAge is the Strict-Transport-Security max-age of answers over
// https: one year.
const HSTSMaxAge = 365 * 24 * 3600

// headers sets the console's security headers on every answer: its CSP,
// no sniffing, no framing, no referrer outside, no caching (but of
// asynqmon's static files, privately), and HSTS over https.
func (h *Handler) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", h.csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		if strings.HasPrefix(r.URL.Path, Root+"/static/") {
			// asynqmon's scripts and styles, named by their content: a
			// phone downloads the megabyte once, no shared cache keeps it.
			hd.Set("Cache-Control", "private, max-age=604800, immutable")
		} else {
			hd.Set("Cache-Control", "no-store")
		}
		if h.overHTTPS(r) {
			hd.Set("Strict-Transport-Security", fmt.Sprintf("max-age=%d", HSTSMaxAge))
		}
		next.ServeHTTP(w, r)
	})
}

// inlineScript matches a script element without attributes: asynqmon's
// index.html has two, whose text depends on RootPath and ReadOnly.
var inlineScript = regexp.MustCompile(`<script>([\s\S]*?)</script>`)

// contentSecurityPolicy is the console's CSP. Scripts: our origin and the
// inline scripts of asynqmon's index page as each monitor renders it (by
// their SHA-256, not 'unsafe-inline'). Styles: our origin, inline ones
// (asynqmon's Material-UI injects style elements at run time; so do our
// pages) and Google Fonts' stylesheets, whose fonts come from
// fonts.gstatic.com: asynqmon's index links Roboto and Material Icons
// there. Nothing may frame the console.
func contentSecurityPolicy(monitors ...http.Handler) (string, error) {
	var hashes []string
	for _, m := range monitors {
		rec := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		req, err := http.NewRequest(http.MethodGet, Root+"/", nil)
		if err != nil {
			return "", fmt.Errorf("console: render asynqmon's index page: %w", err)
		}
		m.ServeHTTP(rec, req)
		scripts := inlineScript.FindAllStringSubmatch(rec.body.String(), -1)
		if rec.status != http.StatusOK || len(scripts) == 0 {
			return "", fmt.Errorf("console: asynqmon's index page (status %d) has no inline script to allow: has asynqmon changed?", rec.status)
		}
		for _, s := range scripts {
			sum := sha256.Sum256([]byte(s[1]))
			hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
	}
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self' " + strings.Join(hashes, " "),
		"style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
		"font-src 'self' https://fonts.gstatic.com",
		"img-src 'self' data:",
		"connect-src 'self'",
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; "), nil
}
