package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
)

// ErrVerifyFailed means a backup failed verification: the file is damaged,
// incomplete, has no valid manifest, or its restore drill did not give back
// the data the manifest describes. VerifyReport.Problems lists every defect.
var ErrVerifyFailed = errors.New("backup verification failed")

// VerifyReport is what Verify checked and found.
type VerifyReport struct {
	Name     string    `json:"name"`
	Manifest *Manifest `json:"manifest,omitempty"`
	// What reading the file found.
	SHA256          string `json:"sha256"`
	CompressedBytes int64  `json:"compressed_bytes"`
	RawBytes        int64  `json:"raw_bytes"`
	LastLine        string `json:"last_line"`
	// RestoreTest is set when a restore drill ran into ScratchDatabase.
	RestoreTest     bool   `json:"restore_test"`
	ScratchDatabase string `json:"scratch_database,omitempty"`
	// Drill is the drill's load time, set when the dump was loaded; it is
	// recorded in the manifest (Manifest.Drill).
	Drill  *Drill       `json:"drill,omitempty"`
	Tables []TableCheck `json:"tables,omitempty"`
	// Problems are the defects found; none means the backup passed.
	Problems []string `json:"problems"`
	// Notes are remarks that are not failures (e.g. what was not compared).
	Notes   []string      `json:"notes,omitempty"`
	Elapsed time.Duration `json:"elapsed"`
}

// OK reports whether the backup passed.
func (r VerifyReport) OK() bool { return len(r.Problems) == 0 }

// TableCheck compares one restored table with the manifest.
type TableCheck struct {
	Name         string `json:"name"`
	WantRows     int64  `json:"want_rows"`
	GotRows      int64  `json:"got_rows"`
	WantChecksum string `json:"want_checksum,omitempty"`
	GotChecksum  string `json:"got_checksum,omitempty"`
	OK           bool   `json:"ok"`
}

// Verify checks backup name: it has a valid manifest, the file's sha256
// and size match it, the gzip stream is complete (read to its end, no
// truncation, no CRC error, no garbage after it) and the SQL ends with the
// trailer line. With restoreTest it then loads the dump into a scratch
// database cantina_drill_<db>_<time>_<random> on m.DB's server (see
// scratch.go), compares every table's
// row count and content checksum with the manifest's, and drops the
// scratch database, also on failure.
//
// A backup with defects gives a report listing all of them and an error
// wrapping ErrVerifyFailed; other errors (the file cannot be read, the
// server is unreachable) mean the check itself could not be done.
//
// An encrypted backup (.sql.gz.age) is decrypted with m.Identities. Without
// them (ErrNoIdentity), or with none that matches (ErrWrongIdentity), its
// stored bytes are still checked against the manifest and the outcome
// recorded, so retention and the health checks work on a machine without
// the key; then, if they matched, Verify fails with that error and the
// report's Notes say the content was not checked.
func (m *Manager) Verify(ctx context.Context, name string, restoreTest bool) (VerifyReport, error) {
	start := m.now()
	rep := VerifyReport{Name: name, Problems: []string{}}
	if err := ValidateName(name); err != nil {
		return rep, err
	}
	if err := m.check(false, restoreTest); err != nil {
		return rep, err
	}
	b, err := m.find(ctx, name)
	if err != nil {
		return rep, err
	}
	switch {
	case !b.HasManifest:
		rep.Problems = append(rep.Problems, "no manifest: this is not a complete backup of ours (an interrupted backup, or a file put there by hand), so its checksum cannot be verified")
	case b.Status == StatusCorruptManifest:
		rep.Problems = append(rep.Problems, "the manifest is unusable: "+b.Problem)
	default:
		rep.Manifest = b.Manifest
	}

	// One handle is checked and, for a drill, loaded: the drill restores
	// the very bytes whose checksum was just compared.
	f, err := openOnce(ctx, m.Storage, name)
	if err != nil {
		return rep, fmt.Errorf("verify %s: %w", name, err)
	}
	defer f.Close()
	fc, err := m.checkReader(ctx, f, name, rep.Manifest, rawBound(rep.Manifest, b.Size), true)
	keyErr := keyError(err)
	if err != nil && keyErr == nil {
		return rep, fmt.Errorf("verify %s: %w", name, err)
	}
	rep.SHA256, rep.CompressedBytes, rep.RawBytes, rep.LastLine = fc.SHA256, fc.CompressedBytes, fc.RawBytes, fc.LastLine
	rep.Problems = append(rep.Problems, fc.Problems...)
	if rep.Manifest != nil {
		// Whether the file matched its manifest decides whether it counts
		// as good from now on (see verified.go): e.g. it is good again
		// after it was copied back with a new mtime, corrupt after a
		// damage that kept its size and mtime.
		if err := m.recordVerified(ctx, b, VerifiedByVerify, len(fc.Problems) == 0); err != nil {
			m.log().Warn("backup verified, but the verification could not be recorded", "backup", name, "err", err)
		}
	}

	if keyErr != nil {
		// The stored bytes were checked (and the outcome recorded, so
		// that retention and health keep working without the key); the
		// content could not be.
		rep.Notes = append(rep.Notes, "the content was not checked (not decrypted, inflated or restored): "+keyErr.Error())
		if rep.OK() {
			rep.Elapsed = m.now().Sub(start)
			return rep, fmt.Errorf("verify %s: the stored file matches its manifest, but its content cannot be checked: %w", name, keyErr)
		}
		restoreTest = false
	}
	if restoreTest {
		if len(rep.Problems) > 0 {
			rep.Notes = append(rep.Notes, "restore test skipped: the file failed the checks above")
		} else if err := m.drill(ctx, &rep, f); err != nil {
			rep.Elapsed = m.now().Sub(start)
			return rep, fmt.Errorf("verify %s: restore test: %w", name, err)
		}
		if rep.Drill != nil {
			rep.Drill.OK = rep.OK()
			if err := m.recordDrill(ctx, name, *rep.Drill); err != nil {
				m.log().Warn("restore drill done, but its time could not be recorded", "backup", name, "err", err)
			}
		}
	}
	rep.Elapsed = m.now().Sub(start)
	if !rep.OK() {
		return rep, fmt.Errorf("%w: %s: %s", ErrVerifyFailed, name, strings.Join(rep.Problems, "; "))
	}
	m.log().Info("backup verified", "backup", name, "restore_test", rep.RestoreTest)
	return rep, nil
}

// find returns the listed dump name, or ErrNotFound with a hint.
func (m *Manager) find(ctx context.Context, name string) (Backup, error) {
	l, err := listStorage(ctx, m.Storage)
	if err != nil {
		return Backup{}, err
	}
	b, ok := l.Find(name)
	if !ok {
		return Backup{}, fmt.Errorf("backup %s: %w (see `cantina-ops backup list`)", name, ErrNotFound)
	}
	return b, nil
}

// drill restores rep's backup into a scratch database and compares it with
// the manifest, adding what differs to rep.Problems. Its error means the
// drill could not run (e.g. no right to create a database). It first drops
// the scratch databases that drills killed with their worker left behind
// (older than m.ScratchGrace).
func (m *Manager) drill(ctx context.Context, rep *VerifyReport, f io.ReadSeeker) (err error) {
	man := rep.Manifest
	left, derr := m.DropLeftoverScratch(ctx, m.scratchGrace())
	if len(left) > 0 {
		rep.Notes = append(rep.Notes, "dropped scratch databases left by earlier drills: "+strings.Join(left, ", "))
	}
	if derr != nil {
		m.log().Warn("leftover scratch databases of earlier drills remain", "err", derr)
		rep.Notes = append(rep.Notes, derr.Error())
	}
	if err := m.creatorCheck(ctx, man); err != nil {
		return err
	}
	scratch := scratchName(man.Database, time.Now())
	rep.RestoreTest = true
	rep.ScratchDatabase = scratch
	if _, err := m.DB.ExecContext(ctx, mysqlx.CreateDatabase(scratch, false)); err != nil {
		return fmt.Errorf("create scratch database %s (the database account needs the CREATE privilege for restore tests): %w", scratch, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, derr := m.DB.ExecContext(dctx, "DROP DATABASE IF EXISTS "+mysqlx.QuoteIdent(scratch)); derr != nil {
			derr = fmt.Errorf("drop scratch database %s (drop it by hand): %w", scratch, derr)
			m.log().Error("restore test left its scratch database behind", "database", scratch, "err", derr)
			err = errors.Join(err, derr)
		}
	}()

	conn, _, err := m.loadConn(ctx, scratch)
	if err != nil {
		return fmt.Errorf("load scratch database %s: %w", scratch, err)
	}
	defer discardConn(conn)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind %s: %w", rep.Name, err)
	}
	loadStart := m.now()
	stats, err := m.loadStats(ctx, conn, scratch, m.loadThreads(0), rep.Name, f, man.RawBytes, nil, nil)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		rep.Problems = append(rep.Problems, fmt.Sprintf("the dump does not load: %v", err))
		return nil
	}
	rep.Drill = &Drill{At: loadStart, RestoreSeconds: m.now().Sub(loadStart).Seconds(), Threads: stats.Threads}

	got, err := baseTables(ctx, conn)
	if err != nil {
		return err
	}
	if len(man.Tables) == 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the %s engine's manifest lists no tables: the dump loaded, %d tables, nothing to compare", man.Engine, len(got)))
		return nil
	}
	want := map[string]bool{}
	unsummed := false
	for _, t := range man.Tables {
		want[t.Name] = true
		tc := TableCheck{Name: t.Name, WantRows: t.Rows, WantChecksum: t.Checksum}
		if !slices.Contains(got, t.Name) {
			rep.Problems = append(rep.Problems, fmt.Sprintf("table %s is missing from the restored copy", t.Name))
			rep.Tables = append(rep.Tables, tc)
			continue
		}
		compareSums := t.Checksum != "" && m.Digest != nil
		if compareSums {
			tc.GotRows, tc.GotChecksum, err = m.Digest(ctx, conn, t.Name)
		} else {
			tc.GotRows, err = countRows(ctx, conn, t.Name)
		}
		if err != nil {
			return fmt.Errorf("check restored table %s: %w", t.Name, err)
		}
		if t.Checksum != "" && m.Digest == nil {
			unsummed = true
		}
		rowsKnown := t.Rows >= 0
		if !rowsKnown {
			rep.Notes = append(rep.Notes, fmt.Sprintf("table %s: the manifest has no row count (the engine could not count it); %d rows restored", t.Name, tc.GotRows))
		}
		tc.OK = (!rowsKnown || tc.GotRows == tc.WantRows) && (!compareSums || tc.GotChecksum == tc.WantChecksum)
		if rowsKnown && tc.GotRows != tc.WantRows {
			rep.Problems = append(rep.Problems, fmt.Sprintf("table %s: %d rows restored, the manifest says %d", t.Name, tc.GotRows, tc.WantRows))
		} else if !tc.OK {
			rep.Problems = append(rep.Problems, fmt.Sprintf("table %s: content checksum %s differs from the manifest's %s", t.Name, tc.GotChecksum, tc.WantChecksum))
		}
		rep.Tables = append(rep.Tables, tc)
	}
	for _, t := range got {
		if !want[t] {
			rep.Problems = append(rep.Problems, fmt.Sprintf("table %s was restored but is not in the manifest", t))
		}
	}
	if unsummed {
		rep.Notes = append(rep.Notes, "no table digest configured (Manager.Digest): row counts compared, checksums not")
	}
	return nil
}

// baseTables lists the base tables of conn's current database.
func baseTables(ctx context.Context, conn *sql.Conn) ([]string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return out, nil
}

func countRows(ctx context.Context, conn *sql.Conn, table string) (int64, error) {
	var n int64
	err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+mysqlx.QuoteIdent(table)).Scan(&n)
	return n, err
}
