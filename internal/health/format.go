package health

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cantina-pos/cantina-ops/internal/units"
)

// FormatValue formats an observed value with its unit for people (the
// health command's table, the alert emails): sizes in binary units, other
// numbers with the precision one reads at a glance; "" without a value.
func FormatValue(v any, unit string) string {
	var f float64
	switch n := v.(type) {
	case nil:
		return ""
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case uint64:
		f = float64(n)
	default:
		return strings.TrimSpace(fmt.Sprint(v) + " " + unit)
	}
	if unit == "B" || unit == "bytes" {
		return units.Bytes(int64(f))
	}
	var s string
	switch a := math.Abs(f); {
	case f == math.Trunc(f), a >= 100:
		s = strconv.FormatFloat(f, 'f', 0, 64)
	case a >= 1:
		s = strconv.FormatFloat(f, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(f, 'g', 3, 64)
	}
	return strings.TrimSpace(s + " " + unit)
}
