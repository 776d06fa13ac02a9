package backup

import (
	"errors"
	"syscall"
)

// Windows error codes (winerror.h) that the syscall package does not name.
const (
	errorSharingViolation syscall.Errno = 32 // ERROR_SHARING_VIOLATION
	errorLockViolation    syscall.Errno = 33 // ERROR_LOCK_VIOLATION
)

// syncDir does nothing on Windows: a directory handle cannot be flushed
// (FlushFileBuffers wants write access, which a directory open denies),
// and NTFS journals its metadata, so a committed rename survives a crash.
func syncDir(string) error { return nil }

// fileBusy reports whether err is another process's open handle blocking
// a rename or delete: Go opens files without FILE_SHARE_DELETE, so a
// reader of the target makes MoveFileEx fail with a sharing violation or
// access denied until it closes the file.
func fileBusy(err error) bool {
	return errors.Is(err, errorSharingViolation) || errors.Is(err, errorLockViolation) ||
		errors.Is(err, syscall.ERROR_ACCESS_DENIED)
}
