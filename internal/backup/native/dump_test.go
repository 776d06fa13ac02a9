package native

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestSnapshotErr(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	other := errors.New("boom")
	tests := []struct {
		name      string
		ctx       context.Context
		err       error
		is        error
		notSchema bool
	}{
		{"table rebuilt", context.Background(), &mysql.MySQLError{Number: 1412}, ErrSchemaChanged, false},
		{"table dropped", context.Background(), fmt.Errorf("read: %w", &mysql.MySQLError{Number: 1146}), ErrSchemaChanged, false},
		{"trigger dropped", context.Background(), &mysql.MySQLError{Number: 1360}, ErrSchemaChanged, false},
		{"routine dropped", context.Background(), &mysql.MySQLError{Number: 1305}, ErrSchemaChanged, false},
		{"event dropped", context.Background(), &mysql.MySQLError{Number: 1539}, ErrSchemaChanged, false},
		{"other server error", context.Background(), &mysql.MySQLError{Number: 1045}, nil, true},
		{"other error", context.Background(), other, other, true},
		{"cancelled wins", cancelled, &mysql.MySQLError{Number: 1412}, context.Canceled, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := snapshotErr(tt.ctx, "dump table x", tt.err)
			if tt.is != nil && !errors.Is(got, tt.is) {
				t.Errorf("%v is not %v", got, tt.is)
			}
			if tt.notSchema == errors.Is(got, ErrSchemaChanged) {
				t.Errorf("%v: ErrSchemaChanged = %v, want %v", got, !tt.notSchema, !tt.notSchema)
			}
			if !strings.HasPrefix(got.Error(), "dump table x: ") {
				t.Errorf("%v does not start with the operation", got)
			}
		})
	}
}
