package backup

import "syscall"

// Windows error codes (winerror.h) that the syscall package does not name.
const (
	errorHandleDiskFull syscall.Errno = 39   // ERROR_HANDLE_DISK_FULL
	errorDiskFull       syscall.Errno = 112  // ERROR_DISK_FULL
	errorDiskQuota      syscall.Errno = 1295 // ERROR_DISK_QUOTA_EXCEEDED
)

// diskFullErrors are the errors of a full disk or an exceeded quota: what
// Windows reports, and the POSIX names Go's own code may return.
var diskFullErrors = []error{errorDiskFull, errorHandleDiskFull, errorDiskQuota, syscall.ENOSPC, syscall.EDQUOT}
