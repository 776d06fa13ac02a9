package native

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// A row whose INSERT would exceed max_allowed_packet fails the dump with
// the table and the row named (by number, and by key when it is a
// number), and no value of the row in the message; rows that fit give
// statements that all fit.
func TestDumpRowTooLarge(t *testing.T) {
	srv := testenv.MySQL(t)
	const secret = "SECRET-ROW-DATA"
	const limit = 4096
	tests := []struct {
		name, table, row string
		fixture          []string
	}{
		// 3000 bytes become 6000 hex digits.
		{"blob, numeric key", "blobs", "row 2 (`id`=7)", []string{
			"CREATE TABLE `blobs` (`id` INT NOT NULL PRIMARY KEY, `b` LONGBLOB)",
			"INSERT INTO `blobs` VALUES (1, 'small'), (7, REPEAT('" + secret + "', 200))"}},
		// 3000 bytes become 4500 escaped; the key is text, so not shown.
		{"text, text key", "texts", "row 1 needs", []string{
			"CREATE TABLE `texts` (`k` VARCHAR(20) NOT NULL PRIMARY KEY, `t` LONGTEXT)",
			"INSERT INTO `texts` VALUES ('" + secret + "', REPEAT('x\\'', 1500))"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, src := testenv.MySQLDatabase(t)
			mustExec(t, srv.Open(t, src), tt.fixture...)
			var out bytes.Buffer
			_, err := New(srv.Config(src), Options{MaxAllowedPacket: limit}).Dump(context.Background(), &out, nil)
			if !errors.Is(err, ErrRowTooLarge) {
				t.Fatalf("got %v, want ErrRowTooLarge", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "dump table "+tt.table+": ") || !strings.Contains(msg, tt.row) ||
				!strings.Contains(msg, fmt.Sprintf("max_allowed_packet (%d)", limit)) || strings.Contains(msg, secret) {
				t.Errorf("message should name table %s and %q, and quote no data:\n%s", tt.table, tt.row, msg)
			}
		})
	}

	t.Run("rows that fit", func(t *testing.T) {
		_, src3 := testenv.MySQLDatabase(t)
		db3 := srv.Open(t, src3)
		mustExec(t, db3, "CREATE TABLE `many` (`id` INT NOT NULL PRIMARY KEY, `s` VARCHAR(100))")
		var sb strings.Builder
		for i := 1; i <= 500; i++ {
			if i > 1 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, "(%d, REPEAT('a', 90))", i)
		}
		mustExec(t, db3, "INSERT INTO `many` VALUES "+sb.String())
		sqlText, _ := dump(t, srv, src3, Options{MaxAllowedPacket: limit})
		inserts := 0
		for _, l := range strings.Split(string(sqlText), "\n") {
			if strings.HasPrefix(l, "INSERT INTO") {
				inserts++
				if len(l)-1+1 > limit { // the statement without ";", plus the command byte
					t.Errorf("an INSERT of %d bytes exceeds max_allowed_packet %d", len(l), limit)
				}
			}
		}
		if inserts < 10 {
			t.Errorf("%d INSERT statements for 50 KB of rows under a 4 KB limit", inserts)
		}
		_, dst := testenv.MySQLDatabase(t)
		loadWithClient(t, srv, dst, sqlText)
		if n := queryInt(t, srv.Open(t, dst), "SELECT COUNT(*) FROM `many`"); n != 500 {
			t.Errorf("%d rows restored, want 500", n)
		}
	})
}
