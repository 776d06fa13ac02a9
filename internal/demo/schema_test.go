package demo

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty", "", nil},
		{"only comments", "-- a\n# b\n\n", nil},
		{"two statements", "SELECT 1;\nSELECT 2;\n", []string{"SELECT 1", "SELECT 2"}},
		{"last without delimiter", "SELECT 1;\nSELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"empty statements skipped", ";;SELECT 1;;", []string{"SELECT 1"}},
		{"semicolon in quotes", `INSERT INTO t VALUES ('a;b', "c;d", 'it''s;', 'x\';y');`,
			[]string{`INSERT INTO t VALUES ('a;b', "c;d", 'it''s;', 'x\';y')`}},
		{"semicolon in backticks", "CREATE TABLE `a;b` (id INT);", []string{"CREATE TABLE `a;b` (id INT)"}},
		{"line comments dropped", "SELECT 1; -- one; two\n# three; four\nSELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{"double dash without space is not a comment", "SELECT 1--1;", []string{"SELECT 1--1"}},
		{"block comment kept", "SELECT /* a; b */ 1;", []string{"SELECT /* a; b */ 1"}},
		{"delimiter block", "CREATE TABLE t (id INT);\nDELIMITER //\nCREATE TRIGGER x AFTER INSERT ON t FOR EACH ROW\nBEGIN\n  SET @a = 1;\n  SET @b = 2;\nEND//\nDELIMITER ;\nSELECT 1;\n",
			[]string{"CREATE TABLE t (id INT)", "CREATE TRIGGER x AFTER INSERT ON t FOR EACH ROW\nBEGIN\n  SET @a = 1;\n  SET @b = 2;\nEND", "SELECT 1"}},
		{"delimiter keyword case-insensitive", "delimiter $$\nSELECT 1; SELECT 2$$\n", []string{"SELECT 1; SELECT 2"}},
		{"DELIMITER inside a statement is text", "SELECT 1,\nDELIMITER $$\n;", []string{"SELECT 1,\nDELIMITER $$"}},
		{"unterminated quote", "SELECT 'abc;", []string{"SELECT 'abc;"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitStatements(tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitStatements(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	stmts := Schema()
	var tables []string
	var view, trigger string
	for _, s := range stmts {
		switch {
		case strings.HasPrefix(s, "CREATE TABLE "):
			tables = append(tables, strings.Fields(s)[2])
		case strings.Contains(s, " VIEW "):
			view = s
		case strings.HasPrefix(s, "CREATE TRIGGER"):
			trigger = s
		default:
			t.Errorf("unexpected statement %.40q", s)
		}
	}
	if !reflect.DeepEqual(tables, Tables()) {
		t.Errorf("tables in schema.sql = %v, want Tables() = %v", tables, Tables())
	}
	if !strings.Contains(view, View) {
		t.Errorf("view statement %q does not create %s", view, View)
	}
	if !strings.Contains(trigger, Trigger) || !strings.HasSuffix(trigger, "END") || strings.Count(trigger, ";") != 2 {
		t.Errorf("trigger statement not split as one BEGIN…END block: %q", trigger)
	}
	if last := stmts[len(stmts)-1]; last != trigger {
		t.Errorf("last statement is %.40q, want the trigger", last)
	}
}

func TestDeferKeys(t *testing.T) {
	tests := []struct {
		name, in, create, alter string
	}{
		{"no keys",
			"CREATE TABLE a (\n  id INT NOT NULL,\n  PRIMARY KEY (id)\n) ENGINE=InnoDB",
			"CREATE TABLE a (\n  id INT NOT NULL,\n  PRIMARY KEY (id)\n) ENGINE=InnoDB", ""},
		{"keys and foreign keys",
			"CREATE TABLE b (\n  id INT NOT NULL,\n  a_id INT NOT NULL,\n  name VARCHAR(10),\n  PRIMARY KEY (id),\n  UNIQUE KEY uq_name (name),\n  KEY ix_a (a_id),\n  CONSTRAINT fk_a FOREIGN KEY (a_id) REFERENCES a (id) ON DELETE CASCADE\n) ENGINE=InnoDB",
			"CREATE TABLE b (\n  id INT NOT NULL,\n  a_id INT NOT NULL,\n  name VARCHAR(10),\n  PRIMARY KEY (id)\n) ENGINE=InnoDB",
			"ALTER TABLE b ADD UNIQUE KEY uq_name (name), ADD KEY ix_a (a_id), ADD CONSTRAINT fk_a FOREIGN KEY (a_id) REFERENCES a (id) ON DELETE CASCADE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			create, alter := deferKeys(tt.in)
			if create != tt.create || alter != tt.alter {
				t.Errorf("deferKeys:\n got %q\n     %q\nwant %q\n     %q", create, alter, tt.create, tt.alter)
			}
		})
	}
}
