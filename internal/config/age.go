package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"filippo.io/age"
)

// BackupAge is the age encryption of backups (filippo.io/age).
type BackupAge struct {
	// Recipients are the public keys of BACKUP_AGE_RECIPIENTS: every new
	// backup is encrypted to all of them. None: backups are not encrypted.
	Recipients []age.Recipient
	// IdentityFile is BACKUP_AGE_IDENTITY_FILE, "" when unset.
	IdentityFile string
	// Identities are the private keys read from IdentityFile at Load,
	// which verify and restore decrypt with. They print as [REDACTED].
	Identities AgeIdentities
}

// AgeIdentities holds age private keys. Whatever prints it (fmt with any
// verb, slog, JSON) gets "[REDACTED]": its elements would otherwise print
// their key bytes.
type AgeIdentities []age.Identity

// String implements fmt.Stringer.
func (a AgeIdentities) String() string {
	if len(a) == 0 {
		return ""
	}
	return redacted
}

// Format prints String for every verb, %d and %#v included.
func (a AgeIdentities) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }

// MarshalText implements encoding.TextMarshaler (used by JSON and slog).
func (a AgeIdentities) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// backupAge reads BACKUP_AGE_RECIPIENTS and BACKUP_AGE_IDENTITY_FILE.
func (p *parser) backupAge() BackupAge {
	var b BackupAge
	var errs []error
	b.Recipients, errs = parseAgeRecipients(p.str("BACKUP_AGE_RECIPIENTS", ""))
	for _, err := range errs {
		p.fail("BACKUP_AGE_RECIPIENTS", "%v", err)
	}
	b.IdentityFile = p.str("BACKUP_AGE_IDENTITY_FILE", "")
	if b.IdentityFile != "" {
		ids, err := ReadAgeIdentities(b.IdentityFile)
		if err != nil {
			p.fail("BACKUP_AGE_IDENTITY_FILE", "%v", err)
		}
		b.Identities = ids
	}
	return b
}

// ParseAgeRecipients parses a list of age public keys separated by commas,
// spaces or newlines (empty entries are skipped): X25519 keys (age1…, made
// by `age-keygen`) or post-quantum hybrid ones (age1pq1…, made by
// `age-keygen -pq` of age 1.3 or later), but not both kinds at once, which
// age refuses. An empty list is no error and no recipient. The error lists
// every bad entry by its position, showing at most an abbreviated public
// key, never a secret key or the whole list.
func ParseAgeRecipients(s string) ([]age.Recipient, error) {
	rs, errs := parseAgeRecipients(s)
	return rs, errors.Join(errs...)
}

func parseAgeRecipients(s string) ([]age.Recipient, []error) {
	entries := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	var rs []age.Recipient
	var errs []error
	for i, e := range entries {
		r, err := parseAgeRecipient(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("entry %d of %d %w", i+1, len(entries), err))
			continue
		}
		rs = append(rs, r)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(rs) > 0 {
		// Encrypting to nowhere checks what only age knows: which kinds
		// of recipient may be mixed (it refuses X25519 with post-quantum).
		if _, err := age.Encrypt(io.Discard, rs...); err != nil {
			return nil, []error{fmt.Errorf("these public keys cannot be used together (%w): list only age1pq1… keys, or only age1… keys", err)}
		}
	}
	return rs, nil
}

// parseAgeRecipient parses one public key; its error completes
// "entry N of M …".
func parseAgeRecipient(e string) (age.Recipient, error) {
	if strings.HasPrefix(strings.ToUpper(e), "AGE-SECRET-KEY-") {
		return nil, errors.New("is a secret key (an identity), not a public key: never put it in the environment; keep it in the file BACKUP_AGE_IDENTITY_FILE names, and list here its public key, which `age-keygen -y FILE` prints")
	}
	if !strings.HasPrefix(e, "age1") {
		return nil, errors.New("is not an age public key (want age1… or age1pq1…, as `age-keygen -y FILE` prints)")
	}
	rs, err := age.ParseRecipients(strings.NewReader(e))
	if err != nil || len(rs) != 1 {
		return nil, fmt.Errorf("(%s) is not a valid age public key: %s: copy it again from `age-keygen -y FILE`", ShortAgeKey(e), ageReason(err, e))
	}
	return rs[0], nil
}

// ageReason is the end of age's parse error ("invalid checksum"), without
// the entry age quotes in it.
func ageReason(err error, entry string) string {
	if err == nil {
		return "not one key"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if strings.Contains(msg, entry) {
		return "malformed"
	}
	return msg
}

// ReadAgeIdentities reads the age identities (private keys, one per line,
// AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…, as `age-keygen -o FILE`
// writes them) from the file at path. On Unix the file must not be
// accessible by group or others (chmod 600): like ssh with a private key,
// it is refused rather than used with a warning, because a key others can
// read protects nothing. Errors never quote the file's content.
func ReadAgeIdentities(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the identity file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open the identity file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: name the file `age-keygen -o FILE` wrote", path)
	}
	if perm := st.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("%s holds private keys but is accessible by group or others (mode %#o): run chmod 600 %s", path, perm, path)
	}
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("%s holds no usable age identity: %w (want lines AGE-SECRET-KEY-1… as `age-keygen -o FILE` writes them; # comments allowed)", path, err)
	}
	return ids, nil
}

// AgeKey is recipient r's public key (age1…), or its type when it has no
// text form.
func AgeKey(r age.Recipient) string {
	if s, ok := r.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("(%T)", r)
}

// ShortAgeKey abbreviates a long public key (a post-quantum one has about
// 2000 characters) for messages; an X25519 key (62) is shown whole.
func ShortAgeKey(key string) string {
	const keep = 80
	if len(key) <= keep {
		return key
	}
	return key[:20] + "…" + key[len(key)-8:]
}

// recipientsSetting is how `config check` shows BACKUP_AGE_RECIPIENTS.
func (b BackupAge) recipientsSetting() string {
	if len(b.Recipients) == 0 {
		return ""
	}
	keys := make([]string, len(b.Recipients))
	for i, r := range b.Recipients {
		keys[i] = ShortAgeKey(AgeKey(r))
	}
	return fmt.Sprintf("public keys (%d): %s", len(keys), strings.Join(keys, ", "))
}

// identitySetting is how `config check` shows BACKUP_AGE_IDENTITY_FILE:
// the path and how many identities it holds, never their content.
func (b BackupAge) identitySetting() string {
	if b.IdentityFile == "" {
		return ""
	}
	return fmt.Sprintf("%s (identities: %d)", b.IdentityFile, len(b.Identities))
}
