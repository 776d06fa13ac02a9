package config

import "runtime"

// DefaultRestoreThreads is RESTORE_THREADS' default (and a backup
// Manager's when it has none): the number of CPU cores, at least 2 (the
// server's work on one table overlaps with the next table's, even on one
// core).
func DefaultRestoreThreads() int { return max(2, runtime.NumCPU()) }
