package backup_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/mysqldump"
	"github.com/cantina-pos/cantina-ops/internal/backup/native"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/demo"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

func nativeDigest(ctx context.Context, c *sql.Conn, table string) (int64, string, error) {
	return native.TableDigest(ctx, c, table)
}

// demoSource creates a database filled with the demo POS data.
func demoSource(t *testing.T) (testenv.MySQLServer, string, *sql.DB) {
	t.Helper()
	srv, src := testenv.MySQLDatabase(t)
	db := srv.Open(t, src)
	if _, err := demo.Seed(context.Background(), db, demo.Options{Size: 1 << 20, Seed: 4}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return srv, src, db
}

// nativeManager backs up src with the native engine into a temp dir.
func nativeManager(t *testing.T, srv testenv.MySQLServer, src string, db *sql.DB) *backup.Manager {
	return &backup.Manager{
		DB:        db,
		Database:  src,
		Engine:    native.New(srv.Config(src), native.Options{}),
		Storage:   backup.NewDirStorage(t.TempDir()),
		Digest:    nativeDigest,
		Retention: backup.Policy{RetentionDays: 30, KeepMin: 7},
		Version:   "test",
		Now:       stepClock(),
	}
}

// checksums returns CHECKSUM TABLE of every demo table of database name.
func checksums(t *testing.T, srv testenv.MySQLServer, name string) map[string]string {
	t.Helper()
	db := srv.Open(t, name)
	out := map[string]string{}
	for _, tbl := range demo.Tables() {
		var n string
		var sum sql.NullString
		if err := db.QueryRow("CHECKSUM TABLE `"+tbl+"` EXTENDED").Scan(&n, &sum); err != nil {
			t.Fatalf("checksum %s.%s: %v", name, tbl, err)
		}
		if !sum.Valid {
			t.Fatalf("%s.%s does not exist", name, tbl)
		}
		out[tbl] = sum.String
	}
	return out
}

func sameChecksums(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	for tbl, w := range want {
		if got[tbl] != w {
			t.Errorf("%s: table %s checksum %s, source %s", what, tbl, got[tbl], w)
		}
	}
}

// objects lists the views and triggers of database name.
func objects(t *testing.T, srv testenv.MySQLServer, name string) []string {
	t.Helper()
	db := srv.Open(t, name)
	rows, err := db.Query(`SELECT CONCAT('view ', TABLE_NAME) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()
		UNION ALL SELECT CONCAT('trigger ', TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// dropLater drops database name at the end of the test.
func dropLater(t *testing.T, db *sql.DB, name string) {
	t.Cleanup(func() { _, _ = db.Exec("DROP DATABASE IF EXISTS `" + name + "`") })
}

// TestEndToEndNative: a native backup of the demo POS is good, passes the
// restore drill, restores with `backup restore` and with the mariadb client
// to tables identical to the source's.
func TestEndToEndNative(t *testing.T) {
	ctx := context.Background()
	srv, src, srcDB := demoSource(t)
	want := checksums(t, srv, src)
	wantObjects := objects(t, srv, src)
	m := nativeManager(t, srv, src, srcDB)

	man, err := m.Run(ctx, backup.RunOptions{Trigger: backup.TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	if man.Engine != native.Name || man.ServerVersion == "" || len(man.Tables) != len(demo.BaseTables()) {
		t.Fatalf("manifest: %+v", man)
	}
	for _, tbl := range man.Tables {
		if tbl.Checksum == "" {
			t.Fatalf("table %s has no checksum", tbl.Name)
		}
	}
	l, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Backups) != 1 || l.Backups[0].Status != backup.StatusGood || l.Backups[0].Problem != "" || len(l.Temps) != 0 {
		t.Fatalf("listing: %+v", l)
	}

	verifyWithDrill(t, m, man.Name)

	// backup restore into a database that does not exist yet.
	target := src + "_restored"
	dropLater(t, srcDB, target)
	res, err := m.Restore(ctx, man.Name, backup.RestoreOptions{Database: target})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || !res.Verified || len(res.Warnings) != 0 || res.Stats.Statements == 0 {
		t.Fatalf("restore result: %+v", res)
	}
	sameChecksums(t, "backup restore", want, checksums(t, srv, target))
	if got := objects(t, srv, target); strings.Join(got, ",") != strings.Join(wantObjects, ",") {
		t.Errorf("restored views and triggers %q, source %q", got, wantObjects)
	}

	// The target now has tables: refused unless Replace.
	if _, err := m.Restore(ctx, man.Name, backup.RestoreOptions{Database: target}); !errors.Is(err, backup.ErrTargetNotEmpty) {
		t.Fatalf("restore over a full database: %v, want ErrTargetNotEmpty", err)
	}
	st, err := m.Target(ctx, target)
	if err != nil || !st.Exists || len(st.Objects) != len(demo.BaseTables())+1 {
		t.Fatalf("Target = %+v, %v", st, err)
	}
	tdb := srv.Open(t, target)
	if _, err := tdb.Exec("CREATE TABLE `extra` (id INT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := tdb.Exec("DELETE FROM sale_lines WHERE id % 2 = 0"); err != nil {
		t.Fatal(err)
	}
	res, err = m.Restore(ctx, man.Name, backup.RestoreOptions{Database: target, Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || len(res.Dropped) == 0 {
		t.Fatalf("replace: %+v", res)
	}
	sameChecksums(t, "backup restore --yes", want, checksums(t, srv, target))
	if st, _ := m.Target(ctx, target); len(st.Objects) != len(demo.BaseTables())+1 {
		t.Errorf("after replace the target holds %q", st.Objects)
	}

	// The standard client: gunzip -c FILE | mariadb NEWDB.
	_, viaClient := testenv.MySQLDatabase(t)
	gunzipIntoClient(t, srv, filepath.Join(dirOf(m), man.Name), viaClient)
	sameChecksums(t, "gunzip | mariadb", want, checksums(t, srv, viaClient))
	if got := objects(t, srv, viaClient); strings.Join(got, ",") != strings.Join(wantObjects, ",") {
		t.Errorf("client-restored views and triggers %q, source %q", got, wantObjects)
	}
}

// gunzipIntoClient runs `gunzip -c file | mariadb database`, password in
// the environment.
func gunzipIntoClient(t *testing.T, srv testenv.MySQLServer, file, database string) {
	t.Helper()
	gz := exec.Command("gunzip", "-c", file)
	cl := exec.Command("mariadb", "--no-defaults", "--batch", "-h", srv.Host, "-P", strconv.Itoa(srv.Port), "-u", srv.User, database)
	cl.Env = append(os.Environ(), "MYSQL_PWD="+srv.Password)
	pipe(t, gz, cl)
}

// pipe runs a | b and fails the test if either fails.
func pipe(t *testing.T, a, b *exec.Cmd) {
	t.Helper()
	r, err := a.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	b.Stdin = r
	var aErr, bOut bytes.Buffer
	a.Stderr = &aErr
	if b.Stdout == nil {
		b.Stdout = &bOut
	}
	b.Stderr = &bOut
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := a.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", a.Path, err, aErr.String())
	}
	if err := b.Wait(); err != nil {
		t.Fatalf("%s: %v\n%s", b.Path, err, bOut.String())
	}
}

// TestVerifyCatchesDamage: damaged copies of a good native backup fail
// Verify with a message that says what is wrong, and Restore refuses them.
func TestVerifyCatchesDamage(t *testing.T) {
	ctx := context.Background()
	srv, src, srcDB := demoSource(t)
	m := nativeManager(t, srv, src, srcDB)
	man, err := m.Run(ctx, backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := dirOf(m)
	orig, err := os.ReadFile(filepath.Join(dir, man.Name))
	if err != nil {
		t.Fatal(err)
	}
	rawSQL := gunzipBytes(t, orig)
	trailerAt := bytes.LastIndex(bytes.TrimRight(rawSQL, "\n"), []byte("\n")) + 1
	if !bytes.HasPrefix(rawSQL[trailerAt:], []byte(backup.TrailerPrefix)) {
		t.Fatalf("the dump's last line is %q", rawSQL[trailerAt:])
	}

	tests := []struct {
		name        string
		damage      func([]byte) []byte
		fixManifest bool // rewrite sha256 and sizes to match the damaged file
		says        []string
		listed      backup.Status
	}{
		{
			name:   "one byte flipped",
			damage: func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b },
			says:   []string{"checksum mismatch", "the file is damaged"},
			listed: backup.StatusUnverified, // same size, but modified after its checksum was verified
		},
		{
			name:        "one byte flipped, manifest forged to match",
			damage:      func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b },
			fixManifest: true,
			says:        []string{"damaged"},
			listed:      backup.StatusUnverified,
		},
		{
			name:   "truncated",
			damage: func(b []byte) []byte { return b[:len(b)-200] },
			says:   []string{"checksum mismatch", "the file is truncated"},
			listed: backup.StatusCorrupt,
		},
		{
			name:        "truncated, manifest forged to match",
			damage:      func(b []byte) []byte { return b[:len(b)*2/3] },
			fixManifest: true,
			says:        []string{"the gzip stream ends early (unexpected end of file): the file is truncated"},
			listed:      backup.StatusUnverified,
		},
		{
			name:        "trailer removed",
			damage:      func([]byte) []byte { return gzipBytes(t, rawSQL[:trailerAt]) },
			fixManifest: true,
			says:        []string{`does not end with the "-- Dump completed" trailer`, "the dump is incomplete"},
			listed:      backup.StatusUnverified,
		},
		{
			name:        "garbage after the gzip stream",
			damage:      func(b []byte) []byte { return append(b, "garbage!"...) },
			fixManifest: true,
			says:        []string{"garbage after the end of the gzip stream"},
			listed:      backup.StatusUnverified,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := backup.DumpName(src, man.StartedAt.Add(time.Duration(i+1)*time.Hour))
			data := tt.damage(bytes.Clone(orig))
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
			copyManifest(t, dir, man.Name, name, data, tt.fixManifest)

			l, err := m.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := l.Find(name); b.Status != tt.listed {
				t.Errorf("listed as %q, want %q", b.Status, tt.listed)
			}
			rep, err := m.Verify(ctx, name, true)
			if !errors.Is(err, backup.ErrVerifyFailed) {
				t.Fatalf("Verify: %v, want ErrVerifyFailed", err)
			}
			t.Logf("Verify says: %v", err)
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if rep.OK() || rep.RestoreTest || len(rep.Notes) == 0 {
				t.Errorf("report: %+v", rep)
			}
			if _, err := m.Restore(ctx, name, backup.RestoreOptions{Database: src + "_never"}); !errors.Is(err, backup.ErrVerifyFailed) {
				t.Errorf("Restore: %v, want ErrVerifyFailed", err)
			}
			assertNoDatabase(t, m, src+"_never")
		})
	}
	// The original is still fine.
	if _, err := m.Verify(ctx, man.Name, false); err != nil {
		t.Fatal(err)
	}
}

// copyManifest writes the manifest of from as that of to; with fix, its
// checksum and sizes describe data.
func copyManifest(t *testing.T, dir, from, to string, data []byte, fix bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, from+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["name"] = to
	if fix {
		sum := sha256.Sum256(data)
		m["sha256"] = hex.EncodeToString(sum[:])
		m["compressed_bytes"] = len(data)
		if raw, err := io.ReadAll(gzipReader(t, data)); err == nil {
			m["raw_bytes"] = len(raw)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, to+".json"), out, 0o600); err != nil {
		t.Fatal(err)
	}
}

func gzipReader(t *testing.T, b []byte) io.Reader {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

func gunzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(gzipReader(t, b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gzipBytes(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRestoreMariaDBDumpFile: a `mariadb-dump | gzip` file, put in the
// backup directory under one of our names without a manifest, restores
// (with a warning that it cannot be verified) to the source's tables.
func TestRestoreMariaDBDumpFile(t *testing.T) {
	ctx := context.Background()
	srv, src, srcDB := demoSource(t)
	want := checksums(t, srv, src)
	m := nativeManager(t, srv, src, srcDB)
	name := backup.DumpName(src, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	f, err := os.OpenFile(filepath.Join(dirOf(m), name), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	dump := exec.Command("mariadb-dump", "--no-defaults", "-h", srv.Host, "-P", strconv.Itoa(srv.Port), "-u", srv.User,
		"--single-transaction", "--quick", "--routines", "--events", "--triggers", "--hex-blob", src)
	dump.Env = append(os.Environ(), "MYSQL_PWD="+srv.Password)
	gz := exec.Command("gzip", "-6")
	gz.Stdout = f
	pipe(t, dump, gz)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	l, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := l.Find(name); !ok || b.Status != backup.StatusPartial {
		t.Fatalf("listed as %+v", b)
	}
	if _, err := m.Verify(ctx, name, false); !errors.Is(err, backup.ErrVerifyFailed) || !strings.Contains(err.Error(), "no manifest") {
		t.Fatalf("Verify of a file without manifest: %v", err)
	}
	target := src + "_fromdump"
	dropLater(t, srcDB, target)
	res, err := m.Restore(ctx, name, backup.RestoreOptions{Database: target})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "checksum cannot be verified") {
		t.Fatalf("restore result: %+v", res)
	}
	sameChecksums(t, "restore of a mariadb-dump file", want, checksums(t, srv, target))
}

// TestRestoreRefusesNames: only our own file names, inside the storage.
func TestRestoreRefusesNames(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	if _, err := m.Run(ctx, backup.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(filepath.Dir(dirOf(m)), "x-20250101T000000Z.sql.gz")
	for _, name := range []string{
		"../etc/passwd",
		"/etc/passwd",
		outside,
		"../" + filepath.Base(dirOf(m)) + "/x-20250101T000000Z.sql.gz",
		"backup.sql.gz",
		"x-20250101T000000Z.sql.gz.json",
		".x-20250101T000000Z.sql.gz.tmp-1",
		"x-20250101T000000Z.sql",
		"",
	} {
		_, err := m.Restore(ctx, name, backup.RestoreOptions{Database: m.Database + "_x"})
		if !errors.Is(err, backup.ErrInvalidName) {
			t.Errorf("Restore(%q): %v, want ErrInvalidName", name, err)
		}
		if _, err := m.Verify(ctx, name, false); !errors.Is(err, backup.ErrInvalidName) {
			t.Errorf("Verify(%q): %v, want ErrInvalidName", name, err)
		}
	}
	missing := backup.DumpName(m.Database, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	if _, err := m.Restore(ctx, missing, backup.RestoreOptions{Database: m.Database + "_x"}); !errors.Is(err, backup.ErrNotFound) {
		t.Errorf("Restore of a missing backup: %v, want ErrNotFound", err)
	}
	assertNoDatabase(t, m, m.Database+"_x")
}

// TestMysqldumpEngineBackup: a backup made by the mysqldump engine is good,
// passes the restore drill on what its manifest has (row counts), and
// restores to the source's tables.
func TestMysqldumpEngineBackup(t *testing.T) {
	ctx := context.Background()
	srv, src, srcDB := demoSource(t)
	want := checksums(t, srv, src)
	eng, err := mysqldump.New(config.DB{Host: srv.Host, Port: srv.Port, Name: src, User: srv.User,
		Password: config.Secret(srv.Password)}, mysqldump.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	m := nativeManager(t, srv, src, srcDB)
	m.Engine = eng
	man, err := m.Run(ctx, backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if man.Engine != mysqldump.Name || len(man.Tables) != len(demo.BaseTables()) {
		t.Fatalf("manifest: %+v", man)
	}
	if o := man.Objects; o == nil || o.Views != 1 || o.Triggers != 1 || o.Functions+o.Procedures+o.Events != 0 {
		t.Errorf("manifest objects %+v, want the demo's view and trigger", o)
	}
	rep, err := m.Verify(ctx, man.Name, true)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(rep.Tables) != len(demo.BaseTables()) {
		t.Fatalf("verify report: %+v", rep)
	}
	for _, tc := range rep.Tables {
		if !tc.OK || tc.GotRows != tc.WantRows || tc.WantRows <= 0 {
			t.Errorf("restore drill, table %+v", tc)
		}
	}
	target := src + "_frommysqldump"
	dropLater(t, srcDB, target)
	res, err := m.Restore(ctx, man.Name, backup.RestoreOptions{Database: target})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || len(res.Warnings) != 0 {
		t.Fatalf("restore result: %+v", res)
	}
	sameChecksums(t, "restore of a mysqldump-engine backup", want, checksums(t, srv, target))

	// A database holding an interrupted restore's marker is not backed
	// up, whatever the engine.
	if _, err := srcDB.ExecContext(ctx, "CREATE TABLE `"+backup.RestoreMarker+"` (`backup` VARCHAR(255) NOT NULL, `started_at` DATETIME NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := srcDB.ExecContext(ctx, "INSERT INTO `"+backup.RestoreMarker+"` VALUES ('pos-20261129T010000Z.sql.gz', UTC_TIMESTAMP())"); err != nil {
		t.Fatal(err)
	}
	before, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(ctx, backup.RunOptions{}); err == nil || !strings.Contains(err.Error(), "interrupted restore of pos-20261129T010000Z.sql.gz") {
		t.Fatalf("backup of a half-restored database: %v, want a refusal naming the interrupted restore", err)
	}
	if after, err := m.List(ctx); err != nil || len(after.Backups) != len(before.Backups) || len(after.Temps) != 0 {
		t.Fatalf("backups after the refusal: %+v (%v), before: %+v", after, err, before)
	}
}
