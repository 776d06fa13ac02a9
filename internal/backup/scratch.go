package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
)

// Scratch databases of restore drills are named
//
//	cantina_drill_<db prefix>_<YYYYMMDDhhmmss UTC>_<8 hex digits>
//
// (at most 64 characters), so that they are recognisable on the server and
// their age is in their name: a drill killed with its worker leaves one
// behind, and the next drill or cleanup drops it once it is older than a
// grace period (DropLeftoverScratch).
const (
	scratchPrefix     = "cantina_drill_"
	scratchTimeLayout = "20060102150405"
	// scratchMaxDBPrefix keeps names within MySQL's 64 characters:
	// 14 + prefix + 1 + 14 + 1 + 8.
	scratchMaxDBPrefix = 64 - len(scratchPrefix) - 1 - len(scratchTimeLayout) - 1 - 8
)

// DefaultScratchGrace is how old a drill's scratch database must be before
// it counts as a leftover, unless Manager.ScratchGrace says otherwise.
// It must exceed the longest restore drill (twice BACKUP_TIMEOUT; see
// setup.Manager).
const DefaultScratchGrace = 6 * time.Hour

var scratchRE = regexp.MustCompile(`^` + scratchPrefix + `[A-Za-z0-9_-]*_([0-9]{14})_[0-9a-f]{8}$`)

// scratchName is a fresh database name for a restore drill of database,
// started at t.
func scratchName(database string, t time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p := FilePrefix(database)
	if len(p) > scratchMaxDBPrefix {
		p = p[:scratchMaxDBPrefix]
	}
	return scratchPrefix + p + "_" + t.UTC().Format(scratchTimeLayout) + "_" + hex.EncodeToString(b)
}

// scratchTime returns when the drill that made scratch database name
// started; false if name is not a drill's.
func scratchTime(name string) (time.Time, bool) {
	m := scratchRE.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(scratchTimeLayout, m[1])
	return t.UTC(), err == nil
}

// scratchGrace is m.ScratchGrace or its default.
func (m *Manager) scratchGrace() time.Duration {
	if m.ScratchGrace > 0 {
		return m.ScratchGrace
	}
	return DefaultScratchGrace
}

// DropLeftoverScratch drops the restore drills' scratch databases (of any
// database's drills, on m.DB's server) whose name says they started more
// than olderThan ago, and returns their names. Give olderThan well above
// the longest drill (2 × BACKUP_TIMEOUT): a younger one may be a drill in
// progress on another worker. Age is wall-clock time (time.Now, not
// m.Now), since names are compared across processes. A database that
// cannot be dropped does not stop the others; the error joins the failures.
func (m *Manager) DropLeftoverScratch(ctx context.Context, olderThan time.Duration) ([]string, error) {
	if m.DB == nil {
		return nil, errors.New("backup manager: no DB")
	}
	rows, err := m.DB.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'cantina_drill_%'")
	if err != nil {
		return nil, fmt.Errorf("list scratch databases: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list scratch databases: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list scratch databases: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	var dropped []string
	var errs []error
	for _, n := range names {
		t, ok := scratchTime(n)
		if !ok || !t.Before(cutoff) {
			continue
		}
		if _, err := m.DB.ExecContext(ctx, "DROP DATABASE IF EXISTS "+mysqlx.QuoteIdent(n)); err != nil {
			errs = append(errs, fmt.Errorf("drop leftover scratch database %s (drop it by hand): %w", n, err))
			continue
		}
		m.log().Info("leftover scratch database dropped", "database", n, "started", t)
		dropped = append(dropped, n)
	}
	return dropped, errors.Join(errs...)
}
