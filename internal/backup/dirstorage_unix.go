//go:build !windows

package backup

import "os"

// syncDir fsyncs directory dir, so that a rename in it survives a power
// cut.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// fileBusy reports whether err is another process's open handle blocking
// a rename: never on POSIX systems, where a rename replaces an open file.
func fileBusy(error) bool { return false }
