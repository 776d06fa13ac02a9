package backup

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// ManifestFormat is the manifest format version this code writes and reads.
const ManifestFormat = 1

// maxManifestBytes bounds how much of a manifest file is read.
const maxManifestBytes = 16 << 20

// Triggers: what started a backup.
const (
	TriggerSchedule = "schedule"
	TriggerCLI      = "cli"
	TriggerAPI      = "api"
	TriggerConsole  = "console"
)

// Manifest describes one complete backup. It is written beside the dump as
// <dump>.json, and only after the dump itself is committed: a backup is
// complete ("good") exactly when its manifest exists and is valid.
type Manifest struct {
	Format        int       `json:"format"`
	Name          string    `json:"name"`
	Database      string    `json:"database"`
	Engine        string    `json:"engine"`
	ToolVersion   string    `json:"tool_version"`
	ServerVersion string    `json:"server_version"`
	SnapshotAt    time.Time `json:"snapshot_at,omitzero"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	// DurationSeconds is FinishedAt − StartedAt, for people reading the file.
	DurationSeconds float64 `json:"duration_seconds"`
	// RawBytes is the size of the SQL. CompressedBytes is the size of the
	// STORED file and SHA256 its hex digest: the .sql.gz file, or for an
	// encrypted backup the .sql.gz.age file (gzip, then age), so that both
	// are checked without any key.
	RawBytes         int64       `json:"raw_bytes"`
	CompressedBytes  int64       `json:"compressed_bytes"`
	Compression      string      `json:"compression"`
	CompressionLevel int         `json:"compression_level"`
	SHA256           string      `json:"sha256"`
	Tables           []TableInfo `json:"tables"`
	AppVersion       string      `json:"cantina_ops_version"`
	Trigger          string      `json:"trigger"`
	// Definers says whether the dump's objects carry their DEFINER
	// (DumpInfo.Definers); "" when the engine did not say.
	Definers string `json:"definers,omitempty"`
	// Objects counts the dump's views, triggers, routines and events
	// (countObjects); nil when the server could not say.
	Objects *ObjectCounts `json:"objects,omitempty"`
	// Encryption is EncryptionAge when the stored file is the gzip stream
	// encrypted with age (a .sql.gz.age file), "" when it is the plain
	// .sql.gz.
	Encryption string `json:"encryption,omitempty"`
	// Recipients are the age public keys the file is encrypted to: the
	// identity of any one of them decrypts it. They are public, and tell
	// which identity a restore needs (e.g. after a key rotation).
	Recipients []string `json:"recipients,omitempty"`
	// Drill is the last restore drill of this backup (verify
	// --restore-test): how long loading it took, the recovery time to
	// expect. Nil before the first.
	Drill *Drill `json:"drill,omitempty"`
	// Verified is the last time the dump file was read back and matched
	// SHA256: at creation, by a verify, or by a cleanup. A backup counts
	// as good only while the file is still the one verified (see List).
	Verified *Verification `json:"verified,omitempty"`
	// Mismatch records a read of the file whose sha256 did not match: the
	// backup is corrupt while the file stays as it was then.
	Mismatch *Verification `json:"mismatch,omitempty"`
}

// Drill is a restore drill's measurement (Manifest.Drill).
type Drill struct {
	At time.Time `json:"at"`
	// RestoreSeconds is the load of the dump into the scratch database,
	// from its first statement to its last (what `backup restore` would
	// take on this server), not the comparison that follows.
	RestoreSeconds float64 `json:"restore_seconds"`
	Threads        int     `json:"threads"`
	// OK: the restored copy matched the manifest.
	OK bool `json:"ok"`
}

// RestoreTime is d's load time as a duration.
func (d Drill) RestoreTime() time.Duration {
	return time.Duration(d.RestoreSeconds * float64(time.Second))
}

// Verification records that a dump file was read end to end and its
// sha256 matched the manifest, and which file that was: its size and
// modification time then. A file changed since (by a person, a tool, a
// disk fault that rewrote it) has another modification time.
type Verification struct {
	At time.Time `json:"at"`
	// By is what verified it: "backup", "verify" or "cleanup".
	By      string    `json:"by"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
	// ETag is the object's entity tag where the storage has one (S3,
	// whose modification times have one-second resolution): a rewrite
	// within the same second and of the same size still changes it.
	ETag string `json:"etag,omitempty"`
}

// Verifiers: Verification.By.
const (
	VerifiedByBackup  = "backup"
	VerifiedByVerify  = "verify"
	VerifiedByCleanup = "cleanup"
)

// matches reports whether v verified the stored object o as it is now.
func (v *Verification) matches(o Object) bool {
	return v != nil && v.Size == o.Size && v.ModTime.Equal(o.ModTime) && (v.ETag == "" || v.ETag == o.ETag)
}

// Rows is the total row count over all tables whose count is known
// (TableInfo.Rows is -1 when an engine could not count a table).
func (m Manifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += max(t.Rows, 0)
	}
	return n
}

// Duration is how long the backup took.
func (m Manifest) Duration() time.Duration { return m.FinishedAt.Sub(m.StartedAt) }

// Validate checks that m is a well-formed manifest of the dump named dump.
func (m Manifest) Validate(dump string) error {
	var errs []error
	if m.Format != ManifestFormat {
		errs = append(errs, fmt.Errorf("format %d is not %d (written by another cantina-ops version?)", m.Format, ManifestFormat))
	}
	if m.Name != dump {
		errs = append(errs, fmt.Errorf("names dump %q, not %q", m.Name, dump))
	}
	if m.Database == "" {
		errs = append(errs, errors.New("no database"))
	} else if ni, err := ParseName(dump); err == nil && FilePrefix(m.Database) != ni.Prefix {
		errs = append(errs, fmt.Errorf("database %q does not match the file name", m.Database))
	}
	if m.Engine == "" {
		errs = append(errs, errors.New("no engine"))
	}
	if err := checkEncryption(m, dump); err != nil {
		errs = append(errs, err)
	}
	if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != 32 {
		errs = append(errs, fmt.Errorf("sha256 %q is not 64 hex digits", m.SHA256))
	}
	if m.CompressedBytes <= 0 || m.RawBytes <= 0 {
		errs = append(errs, fmt.Errorf("sizes %d/%d are not positive", m.CompressedBytes, m.RawBytes))
	}
	if m.StartedAt.IsZero() || m.FinishedAt.Before(m.StartedAt) {
		errs = append(errs, errors.New("start and finish times are missing or reversed"))
	}
	for _, t := range m.Tables {
		if t.Name == "" || t.Rows < -1 {
			errs = append(errs, fmt.Errorf("bad table entry %+v", t))
			break
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("manifest of %s: %w", dump, errors.Join(errs...))
	}
	return nil
}

// encodeManifest renders m as indented JSON with a final newline.
func encodeManifest(m Manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// decodeManifest parses a manifest; trailing data is an error and the
// result must Validate for dump. Unknown fields are ignored, so that a
// field added by a later version does not make this one take good backups
// for corrupt ones (incompatible changes bump Format instead).
func decodeManifest(b []byte, dump string) (Manifest, error) {
	var m Manifest
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("manifest of %s: %w", dump, err)
	}
	if d.More() {
		return Manifest{}, fmt.Errorf("manifest of %s: trailing data after the JSON object", dump)
	}
	if err := m.Validate(dump); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// readManifest reads and validates the manifest of dump from s.
func readManifest(ctx context.Context, s Storage, dump string) (Manifest, error) {
	r, err := s.Open(ctx, ManifestName(dump))
	if err != nil {
		return Manifest{}, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxManifestBytes+1))
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest of %s: %w", dump, err)
	}
	if len(b) > maxManifestBytes {
		return Manifest{}, fmt.Errorf("manifest of %s is larger than %d bytes", dump, maxManifestBytes)
	}
	return decodeManifest(b, dump)
}

// writeManifest stores m as the manifest of m.Name, atomically.
func writeManifest(ctx context.Context, s Storage, m Manifest) error {
	b, err := encodeManifest(m)
	if err != nil {
		return err
	}
	up, err := s.Create(ctx, ManifestName(m.Name))
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if _, err := up.Write(b); err != nil {
		_ = up.Abort()
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := up.Commit(); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}
