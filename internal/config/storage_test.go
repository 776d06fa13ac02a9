package config

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestBackupStorage(t *testing.T) {
	s3env := map[string]string{"S3_ACCESS_KEY_ID": "AKIAEXAMPLE", "S3_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-example-key"}
	with := func(over map[string]string) map[string]string {
		env := withDB(s3env)
		maps.Copy(env, over)
		return env
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    []string // name=url
		wantDir string
	}{
		{"default is BACKUP_DIR", withDB(map[string]string{"BACKUP_DIR": "/srv/b"}), []string{"file=file:///srv/b"}, "/srv/b"},
		{"default dir", withDB(nil), []string{"file=file://" + DefaultBackupDir}, DefaultBackupDir},
		{"file and s3", with(map[string]string{"BACKUP_STORAGE": "file:///var/backups/cantina, s3://my-bucket/pos/prod/"}),
			[]string{"file=file:///var/backups/cantina", "s3=s3://my-bucket/pos/prod"}, "/var/backups/cantina"},
		{"s3 only keeps BACKUP_DIR for the disk check", with(map[string]string{"BACKUP_STORAGE": "s3://bucket.one"}), []string{"s3=s3://bucket.one"}, DefaultBackupDir},
		{"two of a kind are numbered", with(map[string]string{"BACKUP_STORAGE": "s3://aaa,s3://bbb/x,file://rel/dir"}),
			[]string{"s3=s3://aaa", "s3-2=s3://bbb/x", "file=file://rel/dir"}, "rel/dir"},
		{"BACKUP_DIR listed", with(map[string]string{"BACKUP_DIR": "/b/", "BACKUP_STORAGE": "s3://aaa,file:///b"}), []string{"s3=s3://aaa", "file=file:///b"}, "/b"},
		{"paths cleaned and unescaped", with(map[string]string{"BACKUP_STORAGE": "file:///var/my%20backups/./x/"}), []string{"file=file:///var/my backups/x"}, "/var/my backups/x"},
		{"a drive letter", with(map[string]string{"BACKUP_STORAGE": "file:///C:/backups"}), []string{"file=file://C:/backups"}, "C:/backups"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, tc.env)
			var got []string
			for _, d := range c.BackupStorage {
				got = append(got, d.Name+"="+d.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("destinations = %q, want %q", got, tc.want)
			}
			if c.BackupDir != tc.wantDir {
				t.Errorf("BackupDir = %q, want %q", c.BackupDir, tc.wantDir)
			}
		})
	}
}

func TestBackupStorageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string // every one must appear
		not  string   // must not appear (a secret)
	}{
		{"unknown kind", map[string]string{"BACKUP_STORAGE": "ftp://host/dir"}, []string{"BACKUP_STORAGE", "entry 1", "unknown kind"}, ""},
		{"no scheme", map[string]string{"BACKUP_STORAGE": "/var/backups"}, []string{"BACKUP_STORAGE", "file:///path/to/dir"}, ""},
		{"stray comma", map[string]string{"BACKUP_STORAGE": "file:///a,,file:///b"}, []string{"entry 2 is empty"}, ""},
		{"listed twice", map[string]string{"BACKUP_STORAGE": "file:///a,file:///a/"}, []string{"listed twice"}, ""},
		{"bucket like an IP address", map[string]string{"BACKUP_STORAGE": "s3://192.168.1.1", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "secretkey"}, []string{"not a valid S3 bucket name"}, ""},
		{"bad URL with a secret", map[string]string{"BACKUP_STORAGE": "s3://user:secret pw@bucket/pos"}, []string{"takes no credentials"}, "secret pw"},
		{"endpoint with a secret", map[string]string{"S3_ENDPOINT": "https://key:se/cret@host"}, []string{"S3_ENDPOINT", "takes no credentials"}, "se/cret"},
		{"bad bucket", map[string]string{"BACKUP_STORAGE": "s3://My_Bucket", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "secretkey"}, []string{"not a valid S3 bucket name"}, ""},
		{"dotdot prefix", map[string]string{"BACKUP_STORAGE": "s3://bucket/a/../b", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "secretkey"}, []string{"prefix"}, ""},
		{"credentials in the URL", map[string]string{"BACKUP_STORAGE": "s3://AKIA:hunter2secret@bucket/p"}, []string{"takes no credentials", "S3_SECRET_ACCESS_KEY"}, "hunter2secret"},
		{"missing credentials", map[string]string{"BACKUP_STORAGE": "s3://bucket"}, []string{"S3_ACCESS_KEY_ID: is required", "S3_SECRET_ACCESS_KEY: is required"}, ""},
		{"endpoint with a path", map[string]string{"BACKUP_STORAGE": "s3://bucket", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "secretkey", "S3_ENDPOINT": "https://minio:9000/bucket"}, []string{"S3_ENDPOINT", "without a path"}, ""},
		{"endpoint scheme", map[string]string{"S3_ENDPOINT": "ftp://minio:9000"}, []string{"S3_ENDPOINT", "http or https"}, ""},
		{"BACKUP_DIR not listed", map[string]string{"BACKUP_DIR": "/b", "BACKUP_STORAGE": "file:///c"}, []string{"BACKUP_DIR", "does not list"}, ""},
		{"BACKUP_DIR beside s3 only", map[string]string{"BACKUP_DIR": "/b", "BACKUP_STORAGE": "s3://bucket", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "secretkey"}, []string{"BACKUP_DIR", "no file:// destination"}, ""},
		{"short secret", map[string]string{"S3_SECRET_ACCESS_KEY": "x"}, []string{"S3_SECRET_ACCESS_KEY"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := loadErr(t, withDB(tc.env)).Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not say %q:\n%s", w, msg)
				}
			}
			if tc.not != "" && strings.Contains(msg, tc.not) {
				t.Errorf("error shows the secret %q:\n%s", tc.not, msg)
			}
		})
	}
}

func TestS3SecretRedacted(t *testing.T) {
	c := mustLoad(t, withDB(map[string]string{"BACKUP_STORAGE": "s3://bucket", "S3_ACCESS_KEY_ID": "AKIAEXAMPLE", "S3_SECRET_ACCESS_KEY": "wJalr/XUtnFEMI+K7MDENG"}))
	for _, s := range c.Settings() {
		if strings.Contains(s.Value, "wJalr") {
			t.Errorf("%s shows the secret: %s", s.Name, s.Value)
		}
	}
	if got := c.Secrets().Redact("signature failed for wJalr/XUtnFEMI+K7MDENG"); strings.Contains(got, "wJalr") {
		t.Errorf("Secrets does not hide the S3 secret: %s", got)
	}
}

// TestVerifyScheduleOff: the drill (and only it) can be turned off, for a
// worker that does not hold the age identity.
func TestVerifyScheduleOff(t *testing.T) {
	for _, v := range []string{"off", "OFF"} {
		if c := mustLoad(t, withDB(map[string]string{"BACKUP_VERIFY_SCHEDULE": v})); c.BackupVerifySchedule != ScheduleOff {
			t.Errorf("BACKUP_VERIFY_SCHEDULE=%s: %q", v, c.BackupVerifySchedule)
		}
	}
	if c := mustLoad(t, withDB(nil)); c.BackupVerifySchedule != DefaultVerifySchedule {
		t.Errorf("default: %q", c.BackupVerifySchedule)
	}
	wantProblem(t, loadErr(t, withDB(map[string]string{"BACKUP_SCHEDULE": "off"})), "BACKUP_SCHEDULE", "invalid cron spec")
	wantProblem(t, loadErr(t, withDB(map[string]string{"BACKUP_VERIFY_SCHEDULE": "never"})), "BACKUP_VERIFY_SCHEDULE", "invalid cron spec")
}
