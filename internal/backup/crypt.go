package backup

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// Encryption. With Manager.Recipients set, Run encrypts the gzip stream
// with age (filippo.io/age) before it is hashed, counted and stored:
//
//	engine → gzip → age → sha256 + size → storage   (<db>-<ts>.sql.gz.age)
//
// so the manifest's SHA256 and CompressedBytes describe the stored,
// encrypted bytes: a verify, a cleanup's re-read and the health checks
// check them without any key. The stored file is a standard age file:
// `age -d -i KEYFILE FILE.sql.gz.age | gunzip | mysql DB` restores it
// without cantina-ops. Reading the content (Verify, Restore) decrypts with
// Manager.Identities; without them it fails with ErrNoIdentity, once the
// stored bytes have been checked.
//
// The manifest format is unchanged (ManifestFormat 1): a cantina-ops that
// predates encryption does not take <db>-<ts>.sql.gz.age for one of its
// file names, so it never lists, counts, verifies or deletes an encrypted
// backup, and cannot mistake one for a good plain backup.

// EncryptionAge is Manifest.Encryption of a backup encrypted with age.
const EncryptionAge = "age"

// ErrNoIdentity means a backup is encrypted and no age identity is
// configured to decrypt it (BACKUP_AGE_IDENTITY_FILE).
var ErrNoIdentity = errors.New("no age identity configured")

// ErrWrongIdentity means none of the configured age identities can
// decrypt a backup: it was encrypted to other public keys.
var ErrWrongIdentity = errors.New("no age identity matches")

// encrypter returns the writer that encrypts to m.Recipients into w, or,
// without recipients, one that passes through to w. Close finishes the
// encrypted stream (it does not close w).
func (m *Manager) encrypter(w io.Writer) (io.WriteCloser, error) {
	if len(m.Recipients) == 0 {
		return nopWriteCloser{w}, nil
	}
	ew, err := age.Encrypt(w, m.Recipients...)
	if err != nil {
		return nil, fmt.Errorf("encrypt with age (BACKUP_AGE_RECIPIENTS): %w", err)
	}
	return ew, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// dumpName is the name of a new backup started at t: encrypted when m
// has recipients.
func (m *Manager) dumpName(t time.Time) string {
	if len(m.Recipients) > 0 {
		return DumpName(m.Database, t) + AgeExt
	}
	return DumpName(m.Database, t)
}

// encryption is Manifest.Encryption of a new backup.
func (m *Manager) encryption() string {
	if len(m.Recipients) > 0 {
		return EncryptionAge
	}
	return ""
}

// recipientKeys are the public keys of m.Recipients, for the manifest.
func (m *Manager) recipientKeys() []string {
	var keys []string
	for _, r := range m.Recipients {
		keys = append(keys, config.AgeKey(r))
	}
	return keys
}

// checkEncryption reports a manifest whose encryption does not fit its
// dump's name (part of Manifest.Validate).
func checkEncryption(m Manifest, dump string) error {
	ni, err := ParseName(dump)
	if err != nil {
		return nil // Validate reports the name
	}
	switch {
	case m.Encryption != "" && m.Encryption != EncryptionAge:
		return fmt.Errorf("unknown encryption %q (written by a later cantina-ops version?)", m.Encryption)
	case ni.Encrypted && m.Encryption != EncryptionAge:
		return fmt.Errorf("the file name ends in %s but the manifest does not say it is encrypted", AgeExt)
	case !ni.Encrypted && m.Encryption == EncryptionAge:
		return fmt.Errorf("the manifest says the file is encrypted with age but its name does not end in %s", AgeExt)
	}
	return nil
}

// encrypted reports whether dump name is encrypted (its name says so).
func encrypted(name string) bool {
	ni, err := ParseName(name)
	return err == nil && ni.Encrypted
}

// needIdentity fails with ErrNoIdentity when dump name is encrypted and
// m has no identity to decrypt it with.
func (m *Manager) needIdentity(name string) error {
	if encrypted(name) && len(m.Identities) == 0 {
		return fmt.Errorf("backup %s is encrypted with age: set BACKUP_AGE_IDENTITY_FILE to a file holding its identity (AGE-SECRET-KEY-1…, as `age-keygen -o FILE` wrote it): %w", name, ErrNoIdentity)
	}
	return nil
}

// decrypter returns the gzip stream of dump name read from r: r itself
// for a plain dump, its age decryption with m.Identities for an encrypted
// one. recipients (from the manifest, if known) make the error of a
// wrong identity say which keys would do. An error wrapping
// ErrNoIdentity or ErrWrongIdentity is about the keys, not the file; any
// other means the age header is damaged. Key material never appears in
// the errors: only public keys do.
func (m *Manager) decrypter(name string, r io.Reader, recipients []string) (io.Reader, error) {
	if !encrypted(name) {
		return r, nil
	}
	if err := m.needIdentity(name); err != nil {
		return nil, err
	}
	dr, err := age.Decrypt(r, m.Identities...)
	var nomatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &nomatch):
		return nil, fmt.Errorf("backup %s: no identity in BACKUP_AGE_IDENTITY_FILE matches the backup's recipients%s: add the identity of one of them to the file (keep old identities there until the backups made for them are gone): %w",
			name, keysHint(recipients, m.Identities), ErrWrongIdentity)
	case err != nil:
		return nil, fmt.Errorf("the age encryption header cannot be read (%w): the file is damaged or is not an age file", err)
	}
	return dr, nil
}

// keyError returns err when it is about the age keys (ErrNoIdentity,
// ErrWrongIdentity), not about the file; nil otherwise.
func keyError(err error) error {
	if errors.Is(err, ErrNoIdentity) || errors.Is(err, ErrWrongIdentity) {
		return err
	}
	return nil
}

// keysHint says which public keys a backup was encrypted to and which the
// configured identities have, as far as known.
func keysHint(recipients []string, ids []age.Identity) string {
	short := func(keys []string) string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = config.ShortAgeKey(k)
		}
		return strings.Join(out, ", ")
	}
	var have []string
	for _, id := range ids {
		switch id := id.(type) {
		case *age.X25519Identity:
			have = append(have, id.Recipient().String())
		case *age.HybridIdentity:
			have = append(have, id.Recipient().String())
		}
	}
	var parts []string
	if len(recipients) > 0 {
		parts = append(parts, "the manifest lists "+short(recipients))
	}
	if len(have) > 0 {
		parts = append(parts, "the file holds the identities of "+short(have))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}
