package notify

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/units"
)

// locale holds what differs between languages outside the templates:
// number punctuation, date layout and the names of health statuses.
type locale struct {
	decimal, thousands string
	dateLayout         string
	status             map[health.Status]string
	stage              map[string]string
}

var locales = map[string]locale{
	"es": {
		decimal: ",", thousands: ".",
		dateLayout: "02/01/2006 15:04 MST",
		status:     map[health.Status]string{health.Pass: "correcto", health.Warn: "degradado", health.Fail: "en fallo"},
		stage: map[string]string{"checksum": "suma de comprobación", "gzip": "compresión gzip",
			"trailer": "final del volcado", "restore-test": "prueba de restauración"},
	},
	"en": {
		decimal: ".", thousands: ",",
		dateLayout: "2 Jan 2006 15:04 MST",
		status:     map[health.Status]string{health.Pass: "passing", health.Warn: "degraded", health.Fail: "failing"},
		stage: map[string]string{"checksum": "checksum", "gzip": "gzip stream",
			"trailer": "dump trailer", "restore-test": "restore test"},
	},
}

// num formats an integer with the locale's thousands separator.
func (l locale) num(v any) string {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	default:
		return fmt.Sprint(v)
	}
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(l.thousands)
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

// size formats a byte count in binary units (units.ByteParts) with the
// locale's decimal mark: "1,5 MiB" or "1.5 MiB".
func (l locale) size(n int64) string {
	v, u := units.ByteParts(n)
	if u == "B" {
		return l.num(n) + " B"
	}
	return strings.Replace(strconv.FormatFloat(v, 'f', 1, 64), ".", l.decimal, 1) + " " + u
}

// dur formats a duration for people: "850 ms", "42 s", "3 min 5 s", "1 h 12 min".
func dur(d time.Duration) string {
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	case d < time.Minute:
		return strconv.Itoa(int(d.Round(time.Second).Seconds())) + " s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	default:
		d = d.Round(time.Minute)
		if m := int(d.Minutes()) % 60; m != 0 {
			return fmt.Sprintf("%d h %d min", int(d.Hours()), m)
		}
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
}

func (l locale) statusName(s health.Status) string {
	if n, ok := l.status[s]; ok {
		return n
	}
	return string(s)
}

func (l locale) stageName(s string) string {
	if n, ok := l.stage[s]; ok {
		return n
	}
	return s
}
