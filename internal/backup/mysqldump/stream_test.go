package mysqldump

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/backup"
)

func TestHasTrailer(t *testing.T) {
	tests := []struct {
		tail string
		want bool
	}{
		{"INSERT …;\n\n-- Dump completed on 2026-01-01 10:00:00\n", true},
		{"-- Dump completed on 2026-01-01 10:00:00", true},
		{"x\r\n-- Dump completed\r\n", true},
		{"-- Dump completed on 2026-01-01\nINSERT INTO t VALUES (1);\n", false},
		{"INSERT INTO t VALUES (1);\n", false},
		{"INSERT INTO t VALUES ('-- Dump completed');\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := hasTrailer([]byte(tt.tail)); got != tt.want {
			t.Errorf("hasTrailer(%q) = %v", tt.tail, got)
		}
	}
}

func TestRing(t *testing.T) {
	r := &ring{max: 5}
	for _, p := range []string{"ab", "cd", "efg", "", "0123456789", "x"} {
		_, _ = r.Write([]byte(p))
	}
	if got := string(r.Bytes()); got != "6789x" {
		t.Errorf("got %q", got)
	}
}

func TestServerVersion(t *testing.T) {
	head := "/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\n" +
		"-- Host: 127.0.0.1    Database: pos\n-- ------\n-- Server version\t10.11.19-MariaDB-0+deb12u1\n\n/*!40101 SET x */;\n"
	if got := serverVersion([]byte(head)); got != "10.11.19-MariaDB-0+deb12u1" {
		t.Errorf("got %q", got)
	}
	if got := serverVersion([]byte("-- MySQL dump\n")); got != "" {
		t.Errorf("got %q", got)
	}
}

func TestCountTuples(t *testing.T) {
	tests := []struct {
		in          string
		noBackslash bool
		want        int64
	}{
		{" VALUES (1,'a'),(2,'b')", false, 2},
		{" VALUES\n(1,'a),(x'),\n(2,'it\\'s (\"q\")'),\n(3,NULL)", false, 3},
		{" VALUES (1,'it''s ((')", false, 1},
		{" VALUES (1,'C:\\'),(2,'x')", true, 2},
		{" (`a`,`b(c`) VALUES (1,2),(3,4)", false, 2},
		{" VALUES (0x28292829,_binary 'a'),(POINT(1,2))", false, 2},
	}
	for _, tt := range tests {
		if got := countTuples([]byte(tt.in), tt.noBackslash); got != tt.want {
			t.Errorf("countTuples(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestIdentifier(t *testing.T) {
	tests := []struct{ in, name, rest string }{
		{"`sale` VALUES (1)", "sale", " VALUES (1)"},
		{"`odd``name` VALUES", "odd`name", " VALUES"},
		{"`db`.`t` (", "t", " ("},
		{"plain_1 VALUES", "plain_1", " VALUES"},
		{"`a;b` (\n", "a;b", " (\n"},
	}
	for _, tt := range tests {
		name, rest := identifier([]byte(tt.in))
		if name != tt.name || string(rest) != tt.rest {
			t.Errorf("identifier(%q) = %q, %q", tt.in, name, rest)
		}
	}
}

func TestAnalyzer(t *testing.T) {
	dump := "/*M!999999\\- enable the sandbox mode */ \n-- Server version\t10.11.19-MariaDB\n" +
		"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n" +
		"DROP TABLE IF EXISTS `a`;\nCREATE TABLE `a` (\n  `id` int NOT NULL\n) ENGINE=InnoDB;\n" +
		"LOCK TABLES `a` WRITE;\nINSERT INTO `a` VALUES\n(1),\n(2);\nINSERT INTO `a` VALUES (3);\nUNLOCK TABLES;\n" +
		"/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;\n" +
		"/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES' */ ;\n" +
		"DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET @p = 'C:\\' */;;\nDELIMITER ;\n" +
		"/*!50003 SET sql_mode              = @saved_sql_mode */ ;\n" +
		"/*!50001 CREATE VIEW `v` AS SELECT\n 1 AS `id` */;\n" +
		"CREATE TABLE `empty` (x int);\n" +
		"CREATE TABLE `b``c` (s text);\nINSERT INTO `b``c` VALUES ('x\\'),('),('y');\n" +
		"/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n-- Dump completed on 2026-01-01\n"
	var reports []backup.Progress
	a := newAnalyzer(func(p backup.Progress) { reports = append(reports, p) })
	a.run(strings.NewReader(dump))
	want := []backup.TableInfo{{Name: "a", Rows: 3}, {Name: "empty", Rows: 0}, {Name: "b`c", Rows: 2}}
	if got := a.result(); !reflect.DeepEqual(got, want) {
		t.Fatalf("tables %+v, want %+v (err %v)", got, want, a.err)
	}
	last := reports[len(reports)-1]
	if last.Table != "b`c" || last.Rows != 5 || last.TablesDone != 2 || last.Bytes == 0 {
		t.Errorf("last progress %+v", last)
	}

	b := newAnalyzer(nil)
	b.run(strings.NewReader("CREATE TABLE `a` (x int);\nINSERT INTO `a` VALUES ('unterminated);\n"))
	if b.result() != nil {
		t.Errorf("a dump that cannot be read to its end gives no table list: %+v", b.result())
	}
}

func TestSanitize(t *testing.T) {
	got := sanitize([]byte("mysqldump: Got error: 1045: \"Access denied for user 'u'@'h' (using password: YES)\"\n\n"+
		"debug: password=hunter22\n"), "hunter22")
	want := "mysqldump: Got error: 1045: \"Access denied for user 'u'@'h' (using password: YES)\"; debug: password=[REDACTED]"
	if got != want {
		t.Errorf("got %q", got)
	}
}
