//go:build !windows

package health

import (
	"errors"
	"syscall"
)

// connRefused reports whether err is a refused connection.
func connRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// unreachable reports whether err is an unreachable host or network.
func unreachable(err error) bool {
	return errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// connBroken reports whether err is a connection reset or written after
// the peer closed it.
func connBroken(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
