package backup_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/demo"
)

// ageCommand is the path of the standard age CLI (Debian package age).
// Under CI, or `make test` (which installs it), a missing one fails the
// test: the check from outside must never be skipped there.
func ageCommand(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("age")
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("CANTINA_REQUIRE_SERVICES") == "1" {
			t.Fatalf("the age command is missing (apt-get install age; scripts/test.sh installs it): %v", err)
		}
		t.Skipf("the age command is missing (apt-get install age): %v", err)
	}
	return p
}

// newIdentity makes an X25519 identity and writes it, as age-keygen does,
// to a key file only its owner may read.
func newIdentity(t *testing.T) (*age.X25519Identity, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.txt")
	body := "# public key: " + id.Recipient().String() + "\n" + id.String() + "\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return id, path
}

// listed returns the listing entry of backup name.
func listed(t *testing.T, m *backup.Manager, name string) backup.Backup {
	t.Helper()
	l, err := m.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, ok := l.Find(name)
	if !ok {
		t.Fatalf("%s is not listed: %+v", name, l.Backups)
	}
	return b
}

// noSecret fails if msg holds the private key of any of ids.
func noSecret(t *testing.T, what, msg string, ids ...*age.X25519Identity) {
	t.Helper()
	for _, id := range ids {
		if strings.Contains(msg, id.String()) || strings.Contains(msg, id.String()[len("AGE-SECRET-KEY-1"):]) {
			t.Errorf("%s shows a private key: %s", what, msg)
		}
	}
}

// TestEncryptedBackupEndToEnd: with recipients, a native backup of the
// demo POS is stored encrypted (neither gzip nor SQL), decrypts with the
// standard age command to a valid .sql.gz, verifies and restores with the
// identity; without it, or with the wrong one, verify and restore fail
// clearly, after the stored bytes were checked. Plain backups beside it
// keep working, and retention runs without the key.
func TestEncryptedBackupEndToEnd(t *testing.T) {
	ctx := context.Background()
	ageCmd := ageCommand(t)
	srv, src, srcDB := demoSource(t)
	want := checksums(t, srv, src)
	id, keyFile := newIdentity(t)
	other, _ := newIdentity(t)

	m := nativeManager(t, srv, src, srcDB)
	m.Identities = []age.Identity{id}
	plain := *m // no recipients: plain backups, as before
	m.Recipients = []age.Recipient{id.Recipient()}
	noKey := *m // the worker without the identity
	noKey.Identities = nil
	wrongKey := *m
	wrongKey.Identities = []age.Identity{other}

	plainMan, err := plain.Run(ctx, backup.RunOptions{Trigger: backup.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	man, err := m.Run(ctx, backup.RunOptions{Trigger: backup.TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(man.Name, ".sql.gz.age") || strings.HasSuffix(plainMan.Name, ".age") {
		t.Fatalf("names %s (encrypted), %s (plain)", man.Name, plainMan.Name)
	}
	if man.Encryption != backup.EncryptionAge || len(man.Recipients) != 1 || man.Recipients[0] != id.Recipient().String() {
		t.Fatalf("manifest encryption %q, recipients %q", man.Encryption, man.Recipients)
	}
	if plainMan.Encryption != "" || plainMan.Recipients != nil {
		t.Fatalf("plain manifest encryption %q, recipients %q", plainMan.Encryption, plainMan.Recipients)
	}

	path := filepath.Join(dirOf(m), man.Name)
	stored, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("stored bytes are age, neither gzip nor SQL", func(t *testing.T) {
		if bytes.HasPrefix(stored, []byte{0x1f, 0x8b}) || !bytes.HasPrefix(stored, []byte("age-encryption.org/v1\n")) {
			t.Fatalf("stored file starts with %q", stored[:min(len(stored), 24)])
		}
		for _, sql := range []string{"CREATE TABLE", "INSERT INTO", backup.TrailerPrefix, "sale_lines"} {
			if bytes.Contains(stored, []byte(sql)) {
				t.Errorf("stored file contains %q in clear", sql)
			}
		}
		sum := sha256.Sum256(stored)
		if hex.EncodeToString(sum[:]) != man.SHA256 || int64(len(stored)) != man.CompressedBytes {
			t.Errorf("manifest sha256 %s / %d bytes do not describe the stored file (%x / %d)", man.SHA256, man.CompressedBytes, sum, len(stored))
		}
	})

	t.Run("the age command decrypts it to a valid .sql.gz", func(t *testing.T) {
		var out, stderr bytes.Buffer
		cmd := exec.Command(ageCmd, "-d", "-i", keyFile, path)
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("age -d: %v: %s", err, stderr.String())
		}
		zr, err := gzip.NewReader(&out)
		if err != nil {
			t.Fatalf("decrypted bytes are not gzip: %v", err)
		}
		sql, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gunzip the decrypted file: %v", err)
		}
		lines := strings.Split(strings.TrimRight(string(sql), "\n"), "\n")
		if int64(len(sql)) != man.RawBytes || !strings.HasPrefix(lines[len(lines)-1], backup.TrailerPrefix) {
			t.Fatalf("decrypted SQL: %d bytes (manifest %d), last line %q", len(sql), man.RawBytes, lines[len(lines)-1])
		}
	})

	t.Run("both are listed good", func(t *testing.T) {
		for _, n := range []string{man.Name, plainMan.Name} {
			if b := listed(t, &noKey, n); !b.Good() {
				t.Errorf("%s: %s (%s)", n, b.Status, b.Problem)
			}
		}
	})

	t.Run("verify with the identity passes the restore drill", func(t *testing.T) {
		rep, err := m.Verify(ctx, man.Name, true)
		if err != nil {
			t.Fatalf("verify: %v\n%+v", err, rep)
		}
		if !rep.RestoreTest || len(rep.Tables) != len(demo.BaseTables()) || rep.SHA256 != man.SHA256 || rep.RawBytes != man.RawBytes {
			t.Fatalf("verify report: %+v", rep)
		}
		for _, tc := range rep.Tables {
			if !tc.OK || tc.GotChecksum == "" || tc.GotChecksum != tc.WantChecksum {
				t.Errorf("restore drill, table %+v", tc)
			}
		}
		assertNoDatabase(t, m, rep.ScratchDatabase)
	})

	t.Run("verify without identity names the variable and records the checksum", func(t *testing.T) {
		before := listed(t, &noKey, man.Name).Manifest.Verified
		rep, err := noKey.Verify(ctx, man.Name, true)
		if !errors.Is(err, backup.ErrNoIdentity) || !strings.Contains(err.Error(), "BACKUP_AGE_IDENTITY_FILE") {
			t.Fatalf("verify without identity: %v, want ErrNoIdentity naming BACKUP_AGE_IDENTITY_FILE", err)
		}
		if errors.Is(err, backup.ErrVerifyFailed) || !rep.OK() || rep.SHA256 != man.SHA256 || rep.CompressedBytes != man.CompressedBytes || rep.RestoreTest {
			t.Fatalf("report: %+v", rep)
		}
		b := listed(t, &noKey, man.Name)
		if v := b.Manifest.Verified; !b.Good() || v == nil || v.By != backup.VerifiedByVerify || !v.At.After(before.At) {
			t.Fatalf("the stored bytes' verification was not recorded: %+v (before %+v), status %s", v, before, b.Status)
		}
	})

	t.Run("a wrong identity fails clearly", func(t *testing.T) {
		_, err := wrongKey.Verify(ctx, man.Name, true)
		if !errors.Is(err, backup.ErrWrongIdentity) || !strings.Contains(err.Error(), "no identity in BACKUP_AGE_IDENTITY_FILE matches") ||
			!strings.Contains(err.Error(), id.Recipient().String()) || !strings.Contains(err.Error(), other.Recipient().String()) {
			t.Fatalf("verify with a wrong identity: %v", err)
		}
		noSecret(t, "the error", err.Error(), id, other)
		target := src + "_wrongkey"
		dropLater(t, srcDB, target)
		_, err = wrongKey.Restore(ctx, man.Name, backup.RestoreOptions{Database: target})
		if !errors.Is(err, backup.ErrWrongIdentity) {
			t.Fatalf("restore with a wrong identity: %v", err)
		}
		noSecret(t, "the error", err.Error(), id, other)
		assertNoDatabase(t, m, target)
	})

	t.Run("restore without identity fails and touches nothing", func(t *testing.T) {
		files := snapshot(t, dirOf(m))
		target := src + "_nokey"
		dropLater(t, srcDB, target)
		_, err := noKey.Restore(ctx, man.Name, backup.RestoreOptions{Database: target, Confirm: func(backup.RestorePlan) bool {
			t.Error("Confirm was called: the restore went past the identity check")
			return false
		}})
		if !errors.Is(err, backup.ErrNoIdentity) || !strings.Contains(err.Error(), "BACKUP_AGE_IDENTITY_FILE") {
			t.Fatalf("restore without identity: %v", err)
		}
		assertNoDatabase(t, m, target)
		if !mapsEqual(files, snapshot(t, dirOf(m))) {
			t.Error("the storage changed")
		}
	})

	t.Run("restore with the identity round-trips", func(t *testing.T) {
		restoreExact(t, m, man.Name, srv, srcDB, src+"_decrypted", want)
	})

	t.Run("the plain backup beside it still verifies and restores without any key", func(t *testing.T) {
		bare := plain
		bare.Identities = nil
		if _, err := bare.Verify(ctx, plainMan.Name, true); err != nil {
			t.Fatalf("verify plain: %v", err)
		}
		target := src + "_plain"
		dropLater(t, srcDB, target)
		if _, err := bare.Restore(ctx, plainMan.Name, backup.RestoreOptions{Database: target}); err != nil {
			t.Fatalf("restore plain: %v", err)
		}
		sameChecksums(t, "restore of the plain backup", want, checksums(t, srv, target))
	})

	t.Run("retention without the key", func(t *testing.T) {
		// 40 days on, with one to keep: the older (plain) backup goes,
		// the newest good one (encrypted) stays, re-read without a key.
		later := noKey
		later.Retention = backup.Policy{RetentionDays: 30, KeepMin: 1}
		now := man.StartedAt.Add(40 * 24 * time.Hour)
		later.Now = func() time.Time { return now }
		rep, err := later.Cleanup(ctx, false)
		if err != nil {
			t.Fatalf("cleanup: %v\n%+v", err, rep)
		}
		l, err := later.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Backups) != 1 || l.Backups[0].Name != man.Name || !l.Backups[0].Good() {
			t.Fatalf("after cleanup: %+v", l.Backups)
		}
		if _, err := os.Stat(filepath.Join(dirOf(m), plainMan.Name+".json")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the plain backup's manifest is still there: %v", err)
		}
	})
}
