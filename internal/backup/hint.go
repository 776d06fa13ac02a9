package backup

import (
	"errors"
	"fmt"
)

// DiskFullHint is what to do when the backup storage is full.
const DiskFullHint = "The backup storage is full: free space in BACKUP_DIR, or lower BACKUP_RETENTION_DAYS / BACKUP_KEEP_MIN and run `cantina-ops backup cleanup`, then retry."

// diskFull reports whether err is a full disk or an exceeded quota, as the
// operating system reports it (diskFullErrors).
func diskFull(err error) bool {
	for _, target := range diskFullErrors {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// diskHint adds DiskFullHint to a disk-full error.
func diskHint(err error) error {
	if diskFull(err) {
		return fmt.Errorf("%w (%s)", err, DiskFullHint)
	}
	return err
}

// Hint says what the administrator can do about a failed backup, verify,
// restore or cleanup, or "" when there is nothing more specific to say
// than the error. A timeout's hint belongs to whoever set the limit.
func Hint(err error) string {
	switch {
	case diskFull(err):
		return DiskFullHint
	case errors.Is(err, ErrBackupRunning):
		return "Another backup or restore of this database was running the whole time; check the console's active tasks."
	case s3Hint(err) != "":
		return s3Hint(err)
	}
	return ""
}
