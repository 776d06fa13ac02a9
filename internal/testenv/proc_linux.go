package testenv

import "syscall"

// dieWithParent has a server started for a test killed with the test
// binary, should it die without running its cleanups (a timeout's panic).
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
