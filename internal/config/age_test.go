package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"
)

func x25519(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// corrupt is key with its last character changed: a bad checksum.
func corrupt(key string) string {
	if strings.HasSuffix(key, "q") {
		return key[:len(key)-1] + "p"
	}
	return key[:len(key)-1] + "q"
}

func TestParseAgeRecipients(t *testing.T) {
	a, b := x25519(t), x25519(t)
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	pk1, pk2, pqk := a.Recipient().String(), b.Recipient().String(), pq.Recipient().String()
	bad := corrupt(pk2)
	tests := []struct {
		name  string
		value string
		n     int      // recipients parsed
		errs  []string // substrings of the error; none = no error
	}{
		{"unset", "", 0, nil},
		{"only separators", " ,\n, \t", 0, nil},
		{"one", pk1, 1, nil},
		{"commas", pk1 + "," + pk2, 2, nil},
		{"spaces, newlines and empty entries", "\n" + pk1 + " ,, \r\n " + pk2 + ",\n", 2, nil},
		{"post-quantum", pqk, 1, nil},
		{"post-quantum and X25519 mixed", pk1 + "," + pqk, 0, []string{"cannot be used together", "only age1pq1… keys"}},
		{"bad checksum", pk1 + "," + bad, 0, []string{"entry 2 of 2 (" + bad + ") is not a valid age public key", "invalid checksum"}},
		{"not a key", pk1 + ", hello", 0, []string{"entry 2 of 2 is not an age public key"}},
		{"secret key", a.String() + " " + pk2, 0, []string{"entry 1 of 2 is a secret key", "age-keygen -y"}},
		{"lower-case secret key", strings.ToLower(a.String()), 0, []string{"entry 1 of 1 is a secret key"}},
		{"two bad", "x, " + pk1 + ", y", 0, []string{"entry 1 of 3 is not", "entry 3 of 3 is not"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := ParseAgeRecipients(tt.value)
			if len(tt.errs) == 0 {
				if err != nil || len(rs) != tt.n {
					t.Fatalf("got %d recipients, %v; want %d", len(rs), err, tt.n)
				}
				return
			}
			if err == nil || rs != nil {
				t.Fatalf("got %d recipients, no error; want an error", len(rs))
			}
			for _, s := range tt.errs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if strings.Contains(err.Error(), pk1) || strings.Contains(strings.ToUpper(err.Error()), a.String()) {
				t.Errorf("error %q repeats a good key or a secret key", err)
			}
		})
	}
	t.Run("long keys are abbreviated in errors", func(t *testing.T) {
		_, err := ParseAgeRecipients(corrupt(pqk))
		if err == nil || strings.Contains(err.Error(), pqk[:200]) || !strings.Contains(err.Error(), pqk[:20]+"…") {
			t.Fatalf("error %v", err)
		}
	})
}

// writeKeyFile writes body to a file with mode perm and returns its path.
func writeKeyFile(t *testing.T, body string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(p, []byte(body), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil { // past the umask
		t.Fatal(err)
	}
	return p
}

func TestBackupAgeVariables(t *testing.T) {
	id, other := x25519(t), x25519(t)
	keyFile := writeKeyFile(t, "# created: today\n# public key: "+id.Recipient().String()+"\n"+id.String()+"\n\n"+other.String()+"\n", 0o600)

	t.Run("unset: no encryption", func(t *testing.T) {
		c := mustLoad(t, withDB(nil))
		if c.BackupAge.Recipients != nil || c.BackupAge.IdentityFile != "" || c.BackupAge.Identities != nil {
			t.Fatalf("BackupAge = %+v", c.BackupAge)
		}
	})

	t.Run("set", func(t *testing.T) {
		c := mustLoad(t, withDB(map[string]string{
			"BACKUP_AGE_RECIPIENTS":    id.Recipient().String() + ",\n" + other.Recipient().String(),
			"BACKUP_AGE_IDENTITY_FILE": keyFile,
		}))
		if len(c.BackupAge.Recipients) != 2 || c.BackupAge.IdentityFile != keyFile || len(c.BackupAge.Identities) != 2 {
			t.Fatalf("BackupAge = %d recipients, %q, %d identities", len(c.BackupAge.Recipients), c.BackupAge.IdentityFile, len(c.BackupAge.Identities))
		}
		settings := map[string]string{}
		for _, s := range c.Settings() {
			settings[s.Name] = s.Value
		}
		if got, want := settings["BACKUP_AGE_RECIPIENTS"], "public keys (2): "+id.Recipient().String()+", "+other.Recipient().String(); got != want {
			t.Errorf("BACKUP_AGE_RECIPIENTS shows %q, want %q", got, want)
		}
		if got, want := settings["BACKUP_AGE_IDENTITY_FILE"], keyFile+" (identities: 2)"; got != want {
			t.Errorf("BACKUP_AGE_IDENTITY_FILE shows %q, want %q", got, want)
		}
	})

	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the BACKUP_AGE_* problem
		vari string
	}{
		{"bad recipient", map[string]string{"BACKUP_AGE_RECIPIENTS": id.Recipient().String() + " nope"}, []string{"entry 2 of 2"}, "BACKUP_AGE_RECIPIENTS"},
		{"missing file", map[string]string{"BACKUP_AGE_IDENTITY_FILE": filepath.Join(dir, "nope.txt")}, []string{"open the identity file", "nope.txt"}, "BACKUP_AGE_IDENTITY_FILE"},
		{"a directory", map[string]string{"BACKUP_AGE_IDENTITY_FILE": dir}, []string{"not a regular file"}, "BACKUP_AGE_IDENTITY_FILE"},
		{"empty file", map[string]string{"BACKUP_AGE_IDENTITY_FILE": writeKeyFile(t, "# nothing\n", 0o600)}, []string{"holds no usable age identity", "no identities found"}, "BACKUP_AGE_IDENTITY_FILE"},
		{"public key in the file", map[string]string{"BACKUP_AGE_IDENTITY_FILE": writeKeyFile(t, id.Recipient().String()+"\n", 0o600)}, []string{"holds no usable age identity", "line 1"}, "BACKUP_AGE_IDENTITY_FILE"},
		{"damaged secret key", map[string]string{"BACKUP_AGE_IDENTITY_FILE": writeKeyFile(t, id.String()[:40]+"\n", 0o600)}, []string{"holds no usable age identity", "line 1"}, "BACKUP_AGE_IDENTITY_FILE"},
	}
	if runtime.GOOS != "windows" {
		tests = append(tests, struct {
			name string
			env  map[string]string
			want []string
			vari string
		}{"readable by others", map[string]string{"BACKUP_AGE_IDENTITY_FILE": writeKeyFile(t, id.String()+"\n", 0o644)}, []string{"accessible by group or others (mode 0644)", "chmod 600"}, "BACKUP_AGE_IDENTITY_FILE"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loadErr(t, withDB(tt.env))
			wantProblem(t, err, tt.vari, tt.want...)
			wantOnlyProblemsFor(t, err, tt.vari)
			if strings.Contains(err.Error(), id.String()) || strings.Contains(err.Error(), id.String()[:40]) {
				t.Errorf("the error shows the key file's content: %v", err)
			}
		})
	}
}

// TestAgeIdentitiesNeverPrinted: however the config is printed, logged or
// marshalled, the private keys read from the identity file do not show.
func TestAgeIdentitiesNeverPrinted(t *testing.T) {
	id := x25519(t)
	keyFile := writeKeyFile(t, id.String()+"\n", 0o600)
	c := mustLoad(t, withDB(map[string]string{"BACKUP_AGE_IDENTITY_FILE": keyFile, "BACKUP_AGE_RECIPIENTS": id.Recipient().String()}))
	var printed, logged bytes.Buffer
	if err := c.Print(&printed); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", c, "age", c.BackupAge)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", c, "age", c.BackupAge)
	out := printed.String() + string(js) + logged.String() +
		fmt.Sprintf("%v %+v %#v %v %+v %#v %s %d %x", c, c, c, *c, *c, *c, c.BackupAge.Identities, c.BackupAge.Identities, c.BackupAge)
	// The key as text, or age's struct as fmt would print it (its
	// secretKey field, in bytes).
	secret := id.String()
	if strings.Contains(out, secret) || strings.Contains(strings.ToLower(out), strings.ToLower(secret[len("AGE-SECRET-KEY-1"):])) ||
		strings.Contains(out, "secretKey") {
		t.Fatalf("the private key shows:\n%s", out)
	}
	if !strings.Contains(out, redacted) {
		t.Errorf("the identities do not print as %s:\n%s", redacted, out)
	}
}
