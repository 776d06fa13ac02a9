// Package units formats quantities for people, one way everywhere: sizes
// in binary units (KiB, MiB, GiB …), as `ls -h` and MariaDB print them.
package units

import (
	"fmt"
	"strconv"
)

// ByteParts splits n bytes into a value and a binary unit: 1536 → 1.5,
// "KiB"; below 1 KiB the value is whole bytes and the unit "B".
func ByteParts(n int64) (float64, string) {
	const unit = 1024
	if n < unit && n > -unit {
		return float64(n), "B"
	}
	f, exp := float64(n)/unit, 0
	for (f >= unit || f <= -unit) && exp < 4 {
		f /= unit
		exp++
	}
	return f, string("KMGTP"[exp]) + "iB"
}

// Bytes formats n bytes, e.g. "512 B", "12.3 MiB".
func Bytes(n int64) string {
	v, u := ByteParts(n)
	if u == "B" {
		return strconv.FormatInt(n, 10) + " B"
	}
	return fmt.Sprintf("%.1f %s", v, u)
}
