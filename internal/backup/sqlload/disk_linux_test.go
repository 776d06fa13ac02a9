package sqlload

import (
	"os"
	"syscall"
)

// diskBytes is what f takes on disk.
func diskBytes(f *os.File) (int64, bool) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return 0, false
	}
	return st.Blocks * 512, true
}
