//go:build !linux

package testenv

import "syscall"

// dieWithParent: only Linux kills a child with its parent.
func dieWithParent() *syscall.SysProcAttr { return nil }
