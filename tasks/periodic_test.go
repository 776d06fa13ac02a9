package tasks

import (
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// TestPeriodicTasksOff: a schedule set to "off" has no scheduler entry;
// the others stay.
func TestPeriodicTasksOff(t *testing.T) {
	vars := func(over map[string]string) *config.Config {
		env := map[string]string{"DATABASE_URL": "mysql://u:secret-pw@127.0.0.1:3306/cantina"}
		for k, v := range over {
			env[k] = v
		}
		c, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	has := func(ps []Periodic, v string) bool {
		for _, p := range ps {
			if p.Var == v {
				return true
			}
		}
		return false
	}
	on := PeriodicTasks(vars(nil))
	off := PeriodicTasks(vars(map[string]string{"BACKUP_VERIFY_SCHEDULE": "off"}))
	if !has(on, "BACKUP_VERIFY_SCHEDULE") || has(off, "BACKUP_VERIFY_SCHEDULE") {
		t.Errorf("the drill: on %v, off %v", has(on, "BACKUP_VERIFY_SCHEDULE"), has(off, "BACKUP_VERIFY_SCHEDULE"))
	}
	if len(off) != len(on)-1 || !has(off, "BACKUP_SCHEDULE") {
		t.Errorf("off left %d of %d entries", len(off), len(on))
	}
}
