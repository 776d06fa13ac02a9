package config

import (
	"strings"
	"testing"
)

func TestRestoreThreads(t *testing.T) {
	if c := mustLoad(t, withDB(nil)); c.RestoreThreads != DefaultRestoreThreads() || c.RestoreThreads < 2 {
		t.Errorf("RESTORE_THREADS default %d, want %d (at least 2)", c.RestoreThreads, DefaultRestoreThreads())
	}
	if c := mustLoad(t, withDB(map[string]string{"RESTORE_THREADS": "1"})); c.RestoreThreads != 1 {
		t.Errorf("RESTORE_THREADS=1 gives %d", c.RestoreThreads)
	}
	for _, v := range []string{"0", "65", "many", "-2"} {
		t.Run(v, func(t *testing.T) {
			err := loadErr(t, withDB(map[string]string{"RESTORE_THREADS": v}))
			if p := problems(err); len(p) != 1 || !strings.HasPrefix(p[0], "RESTORE_THREADS: ") {
				t.Errorf("RESTORE_THREADS=%q: problems %q, want one naming RESTORE_THREADS", v, p)
			}
		})
	}
}
