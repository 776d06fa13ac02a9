package sqlload

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		in   string
		want kind
		out  string // text with the database name removed, for kindAlterDatabase
	}{
		{"USE `db`", kindUse, ""},
		{"use db", kindUse, ""},
		{"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `x` /*!40100 DEFAULT CHARACTER SET utf8mb4 */", kindCreateDatabase, ""},
		{"create schema x", kindCreateDatabase, ""},
		{"CREATE OR REPLACE DATABASE x", kindCreateDatabase, ""},
		{"/*!40000 DROP DATABASE IF EXISTS `x`*/", kindDropDatabase, ""},
		{"DROP SCHEMA x", kindDropDatabase, ""},
		{"ALTER DATABASE `src` CHARACTER SET latin1 COLLATE latin1_swedish_ci ;", kindAlterDatabase, "ALTER DATABASE  CHARACTER SET latin1 COLLATE latin1_swedish_ci ;"},
		{"ALTER DATABASE `we``ird` COLLATE x", kindAlterDatabase, "ALTER DATABASE  COLLATE x"},
		{"alter schema pos default charset utf8mb4", kindAlterDatabase, "alter schema  default charset utf8mb4"},
		{"ALTER DATABASE CHARACTER SET latin1", kindOther, ""},
		{"ALTER DATABASE /* c */ DEFAULT COLLATE x", kindOther, ""},
		{"/*!40101 SET NAMES utf8mb4 */", kindSet, ""},
		{"/*M!100101 SET @x=1 */", kindSet, ""},
		{"SET sql_mode = 'ANSI'", kindSet, ""},
		{"CREATE TABLE `database` (a int)", kindCreate, ""},
		{"/*!50003 CREATE*/ /*!50017 DEFINER=`u`@`%`*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 1 */", kindCreate, ""},
		{"DROP TABLE IF EXISTS `t`", kindOther, ""},
		{"ALTER TABLE `t` DISABLE KEYS", kindOther, ""},
		{"USER()", kindOther, ""},
		{"-- c\nUSE x", kindUse, ""},
		{"", kindOther, ""},
	}
	for _, tt := range tests {
		k, s, e := classify([]byte(tt.in))
		if k != tt.want {
			t.Errorf("classify(%q) = %d, want %d", tt.in, k, tt.want)
			continue
		}
		if k == kindAlterDatabase {
			if got := string(withoutName([]byte(tt.in), s, e)); got != tt.out {
				t.Errorf("classify(%q): without name %q, want %q", tt.in, got, tt.out)
			}
		}
	}
}

func TestTableOpOf(t *testing.T) {
	for _, tc := range []struct {
		text string
		op   tableOp
		name string
	}{
		{"INSERT INTO `t` (`a`) VALUES (1)", opInsert, "t"},
		{"insert into `we``ird` VALUES (1)", opInsert, "we`ird"},
		{"CREATE TABLE `t` (\n  `id` int)", opCreateTable, "t"},
		{"DROP TABLE IF EXISTS `t`", opDropTable, "t"},
		{"DROP TABLE `t`", opDropTable, "t"},
		{"ALTER TABLE `t`\n  ADD UNIQUE KEY `u` (`a`),\n  ADD KEY `k` (`b`)", opAddIndex, "t"},
		{"ALTER TABLE `t`\n  ADD FULLTEXT KEY `f` (`a`)", opAddIndex, "t"},
		{"ALTER TABLE `t` ADD SPATIAL KEY `s` (`g`)", opAddIndex, "t"},
		{"ALTER TABLE `t`\n  ADD CONSTRAINT `fk` FOREIGN KEY (`a`) REFERENCES `u` (`id`)", opOther, ""},
		{"ALTER TABLE `t` DROP KEY `k`", opOther, ""},
		{"INSERT INTO `db`.`t` VALUES (1)", opOther, ""},
		{"DROP TABLE IF EXISTS `a`, `b`", opOther, ""},
		{"CREATE VIEW `v` AS SELECT 1", opOther, ""},
		{"/*!40101 SET NAMES utf8mb4 */", opOther, ""},
		{"INSERT `t` VALUES (1)", opOther, ""},
	} {
		t.Run(tc.text, func(t *testing.T) {
			op, name := tableOpOf([]byte(tc.text))
			if op != tc.op || name != tc.name {
				t.Errorf("got %d %q, want %d %q", op, name, tc.op, tc.name)
			}
		})
	}
}
