package health

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestDescribeWindows: the Winsock codes Go's net package returns on
// Windows get the same words as their POSIX twins.
func TestDescribeWindows(t *testing.T) {
	opErr := func(call string, err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: call, Err: err}}
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"refused", opErr("connectex", wsaEConnRefused), "connection refused"},
		{"host unreachable", opErr("connectex", wsaEHostUnreach), "host unreachable"},
		{"net unreachable", opErr("connectex", wsaENetUnreach), "host unreachable"},
		{"reset", opErr("wsarecv", syscall.WSAECONNRESET), "the connection was closed"},
		{"aborted", opErr("wsasend", wsaEConnAborted), "the connection was closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(tt.err, 5*time.Second); got != tt.want {
				t.Errorf("describe(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
