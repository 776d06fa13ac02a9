package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// Which backups count as good. A valid manifest and a matching size are
// not enough: a file changed in place keeps its size. A backup is good
// only while its file is the one whose sha256 was last read back and
// matched the manifest (Manifest.Verified: at creation, by a verify, or
// by a cleanup). Retention counts only good backups towards KeepMin, and
// before it deletes a good backup it reads the ones it keeps in its place
// again, so that a keeper damaged without any trace in its size or
// modification time (a disk fault) is found before an older good backup
// is deleted because of it.

// hashFile reads object name and returns its sha256 and size.
func hashFile(ctx context.Context, s Storage, name string) (string, int64, error) {
	f, err := s.Open(ctx, name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx: ctx, r: f})
	if err != nil {
		return "", n, fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// readBack reads a just-committed dump back from the storage and checks it
// is what was written; it returns the verification to record.
func (m *Manager) readBack(ctx context.Context, s Storage, name, sha string, size int64) (*Verification, error) {
	obj, err := s.Stat(ctx, name)
	if err != nil {
		return nil, err
	}
	got, n, err := hashFile(ctx, s, name)
	if err != nil {
		return nil, err
	}
	if got != sha || n != size || obj.Size != size {
		return nil, fmt.Errorf("the stored file does not read back as written (%d bytes, sha256 %s; wrote %d bytes, sha256 %s): check the backup disk", n, got, size, sha)
	}
	return &Verification{At: m.now(), By: VerifiedByBackup, Size: obj.Size, ModTime: obj.ModTime, ETag: obj.ETag}, nil
}

// recordVerified stores in b's manifest that its file, as listed in b
// (size, modification time), matched the manifest's checksum (ok) or did
// not. Nothing is recorded if the file changed meanwhile.
func (m *Manager) recordVerified(ctx context.Context, b Backup, by string, ok bool) error {
	if b.Manifest == nil {
		return errors.New("record verification: no manifest")
	}
	obj, err := m.Storage.Stat(ctx, b.Name)
	if err != nil {
		return fmt.Errorf("record verification of %s: %w", b.Name, err)
	}
	if obj.Size != b.Size || !obj.ModTime.Equal(b.ModTime) || (b.ETag != "" && obj.ETag != b.ETag) {
		return fmt.Errorf("record verification of %s: the file changed while it was read", b.Name)
	}
	man := *b.Manifest
	v := &Verification{At: m.now(), By: by, Size: obj.Size, ModTime: obj.ModTime, ETag: obj.ETag}
	if ok {
		man.Verified, man.Mismatch = v, nil
	} else {
		man.Verified, man.Mismatch = nil, v
	}
	data, err := encodeManifest(man)
	if err != nil {
		return err
	}
	if err := m.Storage.Replace(ctx, ManifestName(b.Name), data); err != nil {
		return fmt.Errorf("record verification of %s: %w", b.Name, err)
	}
	return nil
}

// recheck reads backup *b again and compares its sha256 with the
// manifest: on a match it marks b good (and with record, records the
// verification in its manifest); on a mismatch it marks b corrupt. The
// error is a failure to read.
func (m *Manager) recheck(ctx context.Context, b *Backup, record bool) error {
	sha, n, err := hashFile(ctx, m.Storage, b.Name)
	if err != nil {
		return err
	}
	ok := sha == b.Manifest.SHA256 && n == b.Manifest.CompressedBytes
	if record {
		if err := m.recordVerified(ctx, *b, VerifiedByCleanup, ok); err != nil {
			return err
		}
	}
	if !ok {
		b.Status = StatusCorrupt
		b.Problem = fmt.Sprintf("the file's sha256 %s differs from its manifest's %s: it was changed or damaged", sha, b.Manifest.SHA256)
		m.log().Error("backup damaged: its checksum does not match its manifest", "backup", b.Name, "sha256", sha, "want", b.Manifest.SHA256)
		return nil
	}
	b.Status, b.Problem = StatusGood, ""
	return nil
}

// recordDrill writes d into the manifest of dump name as its last restore
// drill (Manifest.Drill), keeping everything else of the stored manifest.
func (m *Manager) recordDrill(ctx context.Context, name string, d Drill) error {
	man, err := readManifest(ctx, m.Storage, name)
	if err != nil {
		return fmt.Errorf("record the restore drill of %s: %w", name, err)
	}
	man.Drill = &d
	data, err := encodeManifest(man)
	if err != nil {
		return err
	}
	if err := m.Storage.Replace(ctx, ManifestName(name), data); err != nil {
		return fmt.Errorf("record the restore drill of %s: %w", name, err)
	}
	return nil
}
