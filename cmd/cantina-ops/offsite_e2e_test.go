package main

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/minio/minio-go/v7"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

type ageKeyPair struct{ public, file string }

// ageKey makes an X25519 key pair; the identity goes in a private file.
func ageKey(t *testing.T) ageKeyPair {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "identity.txt")
	if err := os.WriteFile(file, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return ageKeyPair{public: id.Recipient().String(), file: file}
}

func minioStat() minio.StatObjectOptions { return minio.StatObjectOptions{} }

// TestOffsiteCommands: every backup command on every destination, through
// the binary, with a local directory and a bucket on the test MinIO, and
// age encryption:
//   - `backup run` stores one encrypted backup in both;
//   - `backup list` shows each copy with its destination, `--storage s3`
//     only the bucket's, an unknown --storage is a usage error naming the
//     known ones;
//   - with the local copy gone, `backup restore NAME` finds it in the
//     bucket and streams it (TMPDIR stays empty: no download first) into a
//     fresh database, equal by CHECKSUM TABLE;
//   - without BACKUP_AGE_IDENTITY_FILE, verify and restore fail naming it;
//   - `backup cleanup --storage s3 --dry-run` decides from the bucket alone;
//   - the S3 secret appears in no output.
func TestOffsiteCommands(t *testing.T) {
	srv, dbName := testenv.POSDatabase(t)
	s3, bucket := testenv.S3Bucket(t)
	dir := t.TempDir()
	key := ageKey(t)
	env := map[string]string{
		"REDIS_URL":                "redis://" + silentDB(t) + "/0", // the commands need no Redis
		"DATABASE_URL":             srv.URL(dbName),
		"BACKUP_DIR":               dir,
		"BACKUP_STORAGE":           "file://" + dir + ",s3://" + bucket + "/cantina/pos",
		"S3_ENDPOINT":              s3.Endpoint,
		"S3_ACCESS_KEY_ID":         s3.AccessKey,
		"S3_SECRET_ACCESS_KEY":     s3.SecretKey,
		"S3_FORCE_PATH_STYLE":      "true",
		"S3_REGION":                "us-east-1",
		"BACKUP_AGE_RECIPIENTS":    key.public,
		"BACKUP_AGE_IDENTITY_FILE": key.file,
	}
	var outputs strings.Builder
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		out, err := binCmd(t, env, args...).CombinedOutput()
		outputs.Write(out)
		if (err == nil) != wantOK {
			t.Fatalf("cantina-ops %s: %v, want ok=%v\n%s", strings.Join(args, " "), err, wantOK, out)
		}
		return string(out)
	}

	if out := run(true, "backup", "run"); !strings.Contains(out, "stored in file (file://"+dir+"), s3 (s3://"+bucket+"/cantina/pos)") || !strings.Contains(out, "encrypted with age to 1 recipient") {
		t.Errorf("backup run does not say where and how it stored the backup:\n%s", out)
	}
	var l backup.Listing
	if err := json.Unmarshal([]byte(run(true, "backup", "list", "--json")), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Backups) != 2 || l.Backups[0].Name != l.Backups[1].Name || l.Backups[0].Destination != "file" || l.Backups[1].Destination != "s3" {
		t.Fatalf("backup list: %+v", l.Backups)
	}
	name := l.Backups[0].Name
	if !strings.HasSuffix(name, ".sql.gz.age") || !l.Backups[1].Good() || l.Backups[1].Manifest.Encryption != "age" {
		t.Fatalf("the bucket's copy: %s %s %+v", name, l.Backups[1].Status, l.Backups[1].Manifest)
	}
	obj, err := s3.Client(t).StatObject(context.Background(), bucket, "cantina/pos/"+name, minioStat())
	if err != nil || obj.Size != l.Backups[1].Size {
		t.Fatalf("object cantina/pos/%s in the bucket: %+v, %v", name, obj, err)
	}
	if out := run(true, "backup", "list"); !strings.Contains(out, "DESTINATION") || strings.Count(out, name) != 2 {
		t.Errorf("backup list:\n%s", out)
	}
	if out := run(true, "backup", "list", "--storage", "s3"); strings.Count(out, name) != 1 || !strings.Contains(out, "s3 ") {
		t.Errorf("backup list --storage s3:\n%s", out)
	}
	cmd := binCmd(t, env, "backup", "list", "--storage", "b2")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "file, s3") {
		t.Errorf("--storage b2: %v\n%s", err, out)
	}

	// The local copy is lost (a wiped dyno): restore finds the bucket's.
	for _, f := range []string{name, name + ".json"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir()
	env["TMPDIR"] = tmp
	_, copyName := testenv.MySQLDatabase(t)
	if out := run(true, "backup", "restore", name, "--database", copyName, "--yes"); !strings.Contains(out, "from s3") {
		t.Errorf("restore does not say it reads from s3:\n%s", out)
	}
	if es, _ := os.ReadDir(tmp); len(es) != 0 {
		t.Errorf("restore from S3 left or used temporary files: %v", es)
	}
	if a, b := testenv.Snapshot(t, srv.Open(t, dbName)), testenv.Snapshot(t, srv.Open(t, copyName)); !maps.Equal(a, b) {
		t.Errorf("restored from S3 != source:\n%v\n%v", a, b)
	}
	run(true, "backup", "verify", name, "--storage", "s3", "--restore-test")

	// Without the identity: verify and restore name the variable.
	delete(env, "BACKUP_AGE_IDENTITY_FILE")
	if out := run(false, "backup", "verify", name); !strings.Contains(out, "BACKUP_AGE_IDENTITY_FILE") {
		t.Errorf("verify without the identity:\n%s", out)
	}
	if out := run(false, "backup", "restore", name, "--database", copyName, "--yes"); !strings.Contains(out, "BACKUP_AGE_IDENTITY_FILE") {
		t.Errorf("restore without the identity:\n%s", out)
	}

	if out := run(true, "backup", "cleanup", "--storage", "s3", "--dry-run"); !strings.Contains(out, "keep  s3  "+name) {
		t.Errorf("cleanup --storage s3 --dry-run:\n%s", out)
	}
	if strings.Contains(outputs.String(), s3.SecretKey) {
		t.Errorf("the S3 secret appears in the commands' output")
	}
}
