package sqlload

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestHead(t *testing.T) {
	tests := []struct{ in, want string }{
		{"INSERT INTO `t` (`a`,`b`) VALUES (1,'secret')", "INSERT INTO `t`"},
		{"INSERT INTO t VALUES (1,'secret')", "INSERT INTO t VALUES"},
		{"/*!40000 ALTER TABLE `t` DISABLE KEYS */", "ALTER TABLE `t`"},
		{"CREATE TABLE `we``ird\nname` (\n  `a` int)", "CREATE TABLE `we``ird\\nname`"},
		{"CREATE DEFINER=`u`@`%` TRIGGER `tr` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.a = 'x'", "CREATE TRIGGER `tr`"},
		{"/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`u`@`%` SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select 1 */", "CREATE VIEW `v`"},
		{"CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 'x'", "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v`"},
		{"SET @a = 'secret'", "SET"},
		{"SET NAMES utf8mb4", "SET NAMES utf8mb4"},
		{"SET x=1234", "SET x"},
		{"SELECT 'secret'", "SELECT"},
		{"'secret'", "statement"},
		{"", "statement"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := head([]byte(tt.in)); got != tt.want {
				t.Errorf("head = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWithoutValues(t *testing.T) {
	tests := []struct {
		name   string
		number uint16
		msg    string
		want   string
	}{
		{"duplicate", 1062, "Duplicate entry 'jo''e@x.com' for key 'email'", "Duplicate entry (value not shown) for key 'email'"},
		{"duplicate composite", 1062, "Duplicate entry 'a-' for key -1' for key 'PRIMARY'", "Duplicate entry (value not shown) for key 'PRIMARY'"},
		{"wrong value", 1525, "Incorrect DATE value: '2026-13-45 secret'", "Incorrect DATE value: (value not shown)"},
		{"invalid character string", 1300, "Invalid utf8mb4 character string: '\\xF0secret'", "Invalid utf8mb4 character string: (value not shown)"},
		{"foreign duplicate", 1761, "Foreign key constraint for table 'orders', record '42-secret' would lead to a duplicate entry in table 'lines', key 'PRIMARY'", "Foreign key constraint for table 'orders', record (value not shown) would lead to a duplicate entry in table 'lines', key 'PRIMARY'"},
		{"syntax", 1064, "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'secret', 2)' at line 1",
			"You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near (value not shown) at line 1"},
		{"incorrect value", 1366, "Incorrect integer value: 'secret' for column `d`.`t`.`a` at row 1", "Incorrect integer value: (value not shown) for column `d`.`t`.`a` at row 1"},
		{"truncated", 1292, "Truncated incorrect DOUBLE value: 'secret'", "Truncated incorrect DOUBLE value: (value not shown)"},
		{"illegal", 1367, "Illegal double 'secret' value found during parsing", "Illegal double (value not shown) value found during parsing"},
		{"unexpected shape", 1062, "Duplicate secret", "the server's message quotes row data (value not shown)"},
		{"no value", 1146, "Table 'd.nope' doesn't exist", "Table 'd.nope' doesn't exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := withoutValues(&mysql.MySQLError{Number: tt.number, SQLState: [5]byte{'2', '3', '0', '0', '0'}, Message: tt.msg})
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != tt.number || me.SQLState != [5]byte{'2', '3', '0', '0', '0'} {
				t.Fatalf("got %#v, want a MySQLError %d", err, tt.number)
			}
			if me.Message != tt.want {
				t.Errorf("message %q, want %q", me.Message, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("%v still quotes the value", err)
			}
		})
	}
	plain := errors.New("plain")
	if got := withoutValues(plain); got != plain {
		t.Errorf("a non-server error changed: %v", got)
	}
}
