package sqlload

import (
	"os"

	"golang.org/x/sys/unix"
)

// punchHole gives the disk blocks of f's bytes [off, off+n) back to the
// file system, keeping the file's size; false where it cannot (a file
// system without FALLOC_FL_PUNCH_HOLE).
func punchHole(f *os.File, off, n int64) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var perr error
	if err := rc.Control(func(fd uintptr) {
		perr = unix.Fallocate(int(fd), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
	}); err != nil {
		return false
	}
	return perr == nil
}
