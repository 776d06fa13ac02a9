package health

import (
	"errors"
	"syscall"
)

// Winsock error codes (winerror.h) that the syscall package does not
// name; Go's net package returns them as they come, not as the POSIX
// names.
const (
	wsaENetUnreach  syscall.Errno = 10051 // WSAENETUNREACH
	wsaEConnAborted syscall.Errno = 10053 // WSAECONNABORTED
	wsaEConnRefused syscall.Errno = 10061 // WSAECONNREFUSED
	wsaEHostUnreach syscall.Errno = 10065 // WSAEHOSTUNREACH
)

// connRefused reports whether err is a refused connection.
func connRefused(err error) bool {
	return errors.Is(err, wsaEConnRefused) || errors.Is(err, syscall.ECONNREFUSED)
}

// unreachable reports whether err is an unreachable host or network.
func unreachable(err error) bool {
	return errors.Is(err, wsaEHostUnreach) || errors.Is(err, wsaENetUnreach) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// connBroken reports whether err is a connection reset or aborted, or
// written after the peer closed it.
func connBroken(err error) bool {
	return errors.Is(err, syscall.WSAECONNRESET) || errors.Is(err, wsaEConnAborted) ||
		errors.Is(err, syscall.ERROR_BROKEN_PIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
