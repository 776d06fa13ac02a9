package native

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// fixtureSchema creates a database with every case the dump must keep
// exact. Tables are created so that the dump's alphabetical order is not a
// valid creation order (child before parent, a_top view before z_base).
var fixtureSchema = []string{
	"CREATE TABLE `parent` (`id` INT NOT NULL AUTO_INCREMENT PRIMARY KEY, `name` VARCHAR(50) NOT NULL)",
	"CREATE TABLE `child` (`id` INT NOT NULL PRIMARY KEY, `parent_id` INT NOT NULL, `note` VARCHAR(20) NULL, " +
		"KEY `k_parent` (`parent_id`), CONSTRAINT `fk_child_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE CASCADE)",
	"CREATE TABLE `alltypes` (" +
		"`id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY," +
		"`ti` TINYINT, `tu` TINYINT UNSIGNED, `si` SMALLINT, `mi` MEDIUMINT UNSIGNED, `i` INT, `bi` BIGINT, `bu` BIGINT UNSIGNED," +
		"`zf` INT(6) UNSIGNED ZEROFILL, `d65` DECIMAL(65,30), `d10` DECIMAL(10,2)," +
		"`f` FLOAT, `f74` FLOAT(7,4), `dbl` DOUBLE, `d102` DOUBLE(10,2)," +
		"`dt` DATE, `dtm` DATETIME, `dtm6` DATETIME(6), `ts6` TIMESTAMP(6) NULL DEFAULT NULL, `tm6` TIME(6), `yr` YEAR," +
		"`ch` CHAR(10), `vc` VARCHAR(255), `tx` TEXT, `lt` LONGTEXT, `lat` VARCHAR(20) CHARACTER SET latin1," +
		"`bn` BINARY(4), `vb` VARBINARY(300), `bl` BLOB, `lb` LONGBLOB," +
		"`b1` BIT(1), `b10` BIT(10), `b64` BIT(64)," +
		"`js` JSON, `en` ENUM('a','b','c d','it''s'), `st` SET('x','y','z')," +
		"`pt` POINT NULL, `ip` INET6 NULL, `uu` UUID NULL," +
		"`gv` BIGINT AS (`i` * 2) VIRTUAL, `gs` VARCHAR(300) AS (CONCAT(`vc`, '!')) STORED," +
		"`inv` INT INVISIBLE DEFAULT 7)",
	// plain: every column type whose rows the parallel loader sends as LOAD
	// DATA, with the same edge values as alltypes (a generated and an
	// invisible column, latin1, escapes, zero dates, \N as text).
	"CREATE TABLE `plain` (" +
		"`id` BIGINT UNSIGNED NOT NULL PRIMARY KEY, `ti` TINYINT, `bu` BIGINT UNSIGNED, `zf` INT(6) UNSIGNED ZEROFILL, `d65` DECIMAL(65,30)," +
		"`dt` DATE, `dtm` DATETIME, `dtm6` DATETIME(6), `ts6` TIMESTAMP(6) NULL DEFAULT NULL, `tm6` TIME(6)," +
		"`ch` CHAR(10), `vc` VARCHAR(300), `tx` TEXT, `lt` LONGTEXT, `lat` VARCHAR(40) CHARACTER SET latin1," +
		"`en` ENUM('a','b','c d','it''s'), `st` SET('x','y','z')," +
		"`gs` VARCHAR(310) AS (CONCAT(`vc`, '!')) STORED, `inv` INT INVISIBLE DEFAULT 7)",
	// years: as a number, YEAR 0 is 0000; as LOAD DATA's text it would be
	// 2000, so its rows must stay INSERTs.
	"CREATE TABLE `years` (`id` INT NOT NULL PRIMARY KEY, `yr` YEAR)",
	"CREATE TABLE `order` (`id` INT NOT NULL PRIMARY KEY, `select` VARCHAR(10), `from` INT, `key` INT)",
	// No primary key, but a unique NOT NULL key: ordered by it.
	"CREATE TABLE `select` (`where` INT NOT NULL, `group` VARCHAR(5) NOT NULL, UNIQUE KEY `u` (`group`, `where`))",
	"CREATE TABLE `we``ird name` (`col with space` INT NOT NULL PRIMARY KEY, `dot.col` TEXT, `back``tick` VARCHAR(5))",
	"CREATE TABLE `tëst.tbl` (`ключ` INT NOT NULL PRIMARY KEY, `値` VARCHAR(10))",
	"CREATE TABLE `composite` (`a` INT NOT NULL, `b` VARCHAR(10) NOT NULL, `v` INT, PRIMARY KEY (`b`, `a`))",
	"CREATE TABLE `nopk` (`x` INT, `y` VARCHAR(10))",
	"CREATE TABLE `empty` (`id` INT NOT NULL PRIMARY KEY)",
	"CREATE TABLE `big` (`id` INT NOT NULL PRIMARY KEY, `payload` VARCHAR(200), `data` MEDIUMBLOB)",
	"CREATE TABLE `line\nbreak` (`a\nb` INT NOT NULL PRIMARY KEY)",
	"CREATE TABLE `myisam_t` (`id` INT NOT NULL PRIMARY KEY, `s` VARCHAR(10)) ENGINE=MyISAM",
	// Index-heavy tables, whose secondary indexes the dump adds after the
	// rows: several plain indexes (declared out of the server's order), a
	// unique one, a prefix, a descending part, FULLTEXT (two), SPATIAL, and
	// foreign keys in both directions (idx_a's is added below, once idx_b
	// exists; idx_b's gets its index from InnoDB).
	"CREATE TABLE `idx_a` (`id` INT NOT NULL AUTO_INCREMENT, `b_id` INT NULL, `code` VARCHAR(20) NOT NULL, `title` VARCHAR(200) NOT NULL, " +
		"`body` TEXT, `g` POINT NOT NULL, `n` INT, `m` INT, PRIMARY KEY (`id`), " +
		"KEY `k_n_m` (`n`, `m` DESC), FULLTEXT KEY `ft_title` (`title`), KEY `k_title` (`title`(10)), UNIQUE KEY `u_code` (`code`), " +
		"SPATIAL KEY `sp_g` (`g`), FULLTEXT KEY `ft_body` (`title`, `body`), KEY `k_b` (`b_id`))",
	"CREATE TABLE `idx_b` (`id` INT NOT NULL PRIMARY KEY, `a_id` INT NULL, `u1` INT NOT NULL, `u2` VARCHAR(10) NOT NULL, " +
		"UNIQUE KEY `u_pair` (`u1`, `u2`), CONSTRAINT `fk_b_a` FOREIGN KEY (`a_id`) REFERENCES `idx_a` (`id`) ON DELETE SET NULL)",
	"ALTER TABLE `idx_a` ADD CONSTRAINT `fk_a_b` FOREIGN KEY (`b_id`) REFERENCES `idx_b` (`id`) ON UPDATE CASCADE, ADD KEY `k_late` (`m`)",
	// idx_ab has no primary key, so the dump keeps its CREATE whole, foreign
	// key included, right after idx_a's rows: the parallel loader must not
	// create it before idx_a's unique key, which a worker adds, exists.
	"CREATE TABLE `idx_ab` (`code` VARCHAR(20) NOT NULL, `qty` INT NOT NULL, CONSTRAINT `fk_ab_a` FOREIGN KEY (`code`) REFERENCES `idx_a` (`code`))",
	"CREATE SEQUENCE `seq1` START WITH 100 INCREMENT BY 5",
	"CREATE FUNCTION `f_add`(a INT, b INT) RETURNS INT DETERMINISTIC RETURN a + b",
	"CREATE PROCEDURE `p_semis`(IN n INT)\nBEGIN\n  -- a comment; kept\n  SELECT 'a;;b', 'ñ' AS x; /* another */\n  SELECT n;\nEND",
	// Bodies whose last characters could join a delimiter written after
	// them: a trailing -- comment holding ;; and $$, a # comment ending in ;.
	"CREATE PROCEDURE `p_tail`()\nSELECT ';' AS `s` -- ends in a comment with ;; and $$",
	"CREATE PROCEDURE `p_hash`() SELECT 2 # a hash comment ending in ;",
	"CREATE EVENT `ev_cleanup` ON SCHEDULE EVERY 1 DAY STARTS '2031-01-01 00:00:00' ON COMPLETION PRESERVE DISABLE " +
		"DO DELETE FROM `nopk` WHERE `x` < 0",
	"CREATE TRIGGER `parent_bi` BEFORE INSERT ON `parent` FOR EACH ROW\nBEGIN\n  IF NEW.`name` = '' THEN SET NEW.`name` = 'anón;'; END IF;\nEND",
	"CREATE TRIGGER `order_bi1` BEFORE INSERT ON `order` FOR EACH ROW SET NEW.`key` = 1",
	"CREATE TRIGGER `order_bi0` BEFORE INSERT ON `order` FOR EACH ROW PRECEDES `order_bi1` SET NEW.`from` = 0",
	"CREATE VIEW `z_base` AS SELECT `id`, `name` FROM `parent` WHERE `id` > 0",
	"CREATE VIEW `a_top` AS SELECT `id` FROM `z_base` WHERE `name` <> 'x''y\\\\z'",
	"CREATE VIEW `v_fn` AS SELECT `f_add`(1, 2) AS `three`, 'é;x' AS `s`",
	// c2 reads c1, and c1 merely names a column c2: a false cycle that the
	// dump breaks with a stand-in.
	"CREATE VIEW `c1` AS SELECT 1 AS `c2`",
	"CREATE VIEW `c2` AS SELECT `c2` AS `x` FROM `c1`",
	"CREATE VIEW `select view` AS SELECT `select`, `from` FROM `order`",
}

const testText = "emoji 😀🍕 'quote' \"dq\" back\\slash nul\x00 nl\n cr\r ctrlz\x1a tab\t é ñ 漢字 \\' \\\\"

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func createFixture(t *testing.T, srv testenv.MySQLServer, name string) {
	t.Helper()
	ctx := context.Background()
	c := conn(t, srv.Open(t, name))
	// Zero dates need a mode without NO_ZERO_DATE/strict; a non-UTC
	// session zone checks that TIMESTAMPs are dumped zone-independently.
	mustExec(t, c, "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'", "SET SESSION time_zone = '+05:30'")
	for _, s := range fixtureSchema {
		if strings.HasPrefix(s, "CREATE FUNCTION") {
			// Created under another mode, which the dump must keep.
			mustExec(t, c, "SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES'", s, "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
			continue
		}
		mustExec(t, c, s)
	}
	// Objects created by a latin1 client keep their bytes and charset.
	mustExec(t, c, "SET NAMES latin1",
		"CREATE TRIGGER `child_bi` BEFORE INSERT ON `child` FOR EACH ROW SET NEW.`note` = CONCAT(COALESCE(NEW.`note`, ''), '\xe9')",
		"CREATE VIEW `v_latin1` AS SELECT '\xe9\xf1' AS `e`",
		"CREATE PROCEDURE `p_latin1`() SELECT '\xfc' AS `u`",
		"SET NAMES utf8mb4")
	mustExec(t, c,
		"INSERT INTO `parent` (`id`, `name`) VALUES (1, 'uno'), (2, ''), (3, 'tres')",
		"ALTER TABLE `parent` AUTO_INCREMENT = 1000", // a gap beyond the highest id
		"INSERT INTO `child` VALUES (1, 3, 'c1'), (2, 1, NULL), (3, 3, '')",
		"INSERT INTO `order` (`id`, `select`, `from`, `key`) VALUES (1, 'sel', 5, 6), (2, NULL, NULL, NULL)",
		"INSERT INTO `select` VALUES (2, 'b'), (1, 'b'), (3, 'a')",
		"INSERT INTO `we``ird name` VALUES (1, 'a.b', 'x`y'), (2, NULL, '')",
		"INSERT INTO `tëst.tbl` VALUES (1, '値1'), (2, '😀')",
		"INSERT INTO `composite` VALUES (2, 'a', 1), (1, 'b', 2), (1, 'a', 3)",
		"INSERT INTO `nopk` VALUES (1, 'dup'), (1, 'dup'), (NULL, NULL), (2, '')",
		"INSERT INTO `myisam_t` VALUES (1, 'm')",
		"INSERT INTO `line\nbreak` VALUES (1)",
		"DO NEXTVAL(`seq1`)",
		"SET FOREIGN_KEY_CHECKS = 0",
		"INSERT INTO `idx_a` (`id`, `b_id`, `code`, `title`, `body`, `g`, `n`, `m`) SELECT `seq`, IF(`seq` % 3 = 0, NULL, `seq` % 50 + 1), "+
			"CONCAT('c', `seq`), CONCAT('title number ', `seq`, ' about ', ELT(`seq` % 4 + 1, 'coffee', 'bread', 'milk', 'tea')), "+
			"IF(`seq` % 5 = 0, NULL, REPEAT('body text ', `seq` % 20)), POINT(`seq` % 90, -`seq` % 45), `seq` % 7, `seq` % 11 FROM `seq_1_to_3000`",
		"INSERT INTO `idx_b` SELECT `seq`, IF(`seq` % 2 = 0, NULL, `seq` * 7), `seq` % 10, CONCAT('v', `seq`) FROM `seq_1_to_60`",
		"INSERT INTO `idx_ab` SELECT CONCAT('c', `seq`), `seq` FROM `seq_1_to_40`",
		"SET FOREIGN_KEY_CHECKS = 1",
		"ALTER TABLE `idx_a` AUTO_INCREMENT = 5000",
	)
	// alltypes: NULLs, empties, extremes, then random values.
	mustExec(t, c,
		"INSERT INTO `alltypes` (`id`) VALUES (1)",
		"INSERT INTO `alltypes` (`id`, `ch`, `vc`, `tx`, `lt`, `lat`, `bn`, `vb`, `bl`, `js`, `en`, `st`) "+
			"VALUES (2, '', '', '', '', '', '', '', '', '{}', '', '')",
		"INSERT INTO `alltypes` (`id`, `ti`, `tu`, `si`, `mi`, `i`, `bi`, `bu`, `zf`, `d65`, `d10`, `f`, `f74`, `dbl`, `d102`,"+
			"`dt`, `dtm`, `dtm6`, `ts6`, `tm6`, `yr`, `ch`, `bn`, `b1`, `b10`, `b64`, `js`, `en`, `st`, `pt`, `ip`, `uu`, `inv`) VALUES "+
			"(3, -128, 255, -32768, 16777215, -2147483648, -9223372036854775808, 18446744073709551615, 42,"+
			"'-12345678901234567890123456789012345.123456789012345678901234567890', '-0.01', 0.1, 1.2345, 0.1, 3.14,"+
			"'0000-00-00', '0000-00-00 00:00:00', '2024-02-29 23:59:59.999999', '2024-03-31 01:30:00.123456', '-838:59:59.000000', 0,"+
			"'it''s', 0x00FF0001, b'1', b'1010101010', 0xFFFFFFFFFFFFFFFF,"+
			"'{\"a\": [1, 2.50, \"x\\\\\"y\", null],   \"é\": \"😀\", \"n\": {\"k\": true}}', 'it''s', 'x,z',"+
			"ST_GeomFromText('POINT(1.5 -2.25)'), '::ffff:192.0.2.1', '123e4567-e89b-12d3-a456-426614174000', -1)",
		"INSERT INTO `alltypes` (`id`, `tm6`, `yr`, `dtm6`, `ts6`, `dt`, `b1`, `b64`) VALUES "+
			"(4, '838:59:59.999999', 2155, '1000-01-01 00:00:00.000001', '1970-01-01 05:30:01.000000', '9999-12-31', b'0', 0),"+
			"(5, '-00:00:00.000001', 1901, '2024-01-01 12:00:00.5', NULL, '2024-01-01', NULL, 1)",
	)
	if _, err := c.ExecContext(ctx, "INSERT INTO `alltypes` (`id`, `vc`, `tx`, `lt`, `lat`, `vb`, `bl`, `lb`) VALUES (6, ?, ?, ?, ?, ?, ?, ?)",
		testText, strings.Repeat("x", 5000)+"é", string(allASCII()), "café Ñ ¿?", allBytes(), []byte{0}, bytes.Repeat([]byte{0, 0xff, '\'', '\\'}, 1000)); err != nil {
		t.Fatalf("insert text row: %v", err)
	}
	mustExec(t, c,
		"INSERT INTO `years` VALUES (1, 0), (2, 1901), (3, 2155), (4, NULL), (5, 70)",
		"INSERT INTO `plain` (`id`) VALUES (1)",
		"INSERT INTO `plain` (`id`, `ch`, `vc`, `tx`, `lt`, `lat`, `en`, `st`) VALUES (2, '', '', '', '', '', '', '')",
		"INSERT INTO `plain` (`id`, `ti`, `bu`, `zf`, `d65`, `dt`, `dtm`, `dtm6`, `ts6`, `tm6`, `ch`, `en`, `st`, `inv`) VALUES "+
			"(3, -128, 18446744073709551615, 42, '-12345678901234567890123456789012345.123456789012345678901234567890',"+
			"'0000-00-00', '0000-00-00 00:00:00', '2024-02-29 23:59:59.999999', '2024-03-31 01:30:00.123456', '-838:59:59.000000',"+
			"'it''s  ', 'it''s', 'x,z', -1)",
		"INSERT INTO `plain` (`id`, `tm6`, `dtm6`, `ts6`, `dt`) VALUES "+
			"(4, '838:59:59.999999', '1000-01-01 00:00:00.000001', '1970-01-01 05:30:01.000000', '9999-12-31'),"+
			"(5, '-00:00:00.000001', '2024-01-01 12:00:00.5', NULL, '2024-01-01')",
	)
	if _, err := c.ExecContext(ctx, "INSERT INTO `plain` (`id`, `vc`, `tx`, `lt`, `lat`) VALUES (6, ?, ?, ?, ?)",
		testText, string(allASCII()), `\N \% \_ NULL \\N`+"\t", "café Ñ ¿?"); err != nil {
		t.Fatalf("insert plain text row: %v", err)
	}
	if _, err := c.ExecContext(ctx, "INSERT INTO `plain` (`id`, `vc`) VALUES (7, ?), (8, ?), (9, ?)", `\N`, "NULL", "\t"); err != nil {
		t.Fatalf("insert plain text row: %v", err)
	}
	rndPlain := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		if _, err := c.ExecContext(ctx, "INSERT INTO `plain` (`id`, `bu`, `vc`, `tx`, `dtm6`, `d65`) VALUES (?, ?, ?, ?, ?, ?)",
			100+i, rndPlain.Uint64()>>1, randomText(rndPlain), randomText(rndPlain), fmt.Sprintf("2020-01-02 03:04:05.%06d", rndPlain.IntN(1000000)),
			fmt.Sprintf("%d.%d", rndPlain.Int64(), rndPlain.Uint64())); err != nil {
			t.Fatalf("insert random plain row: %v", err)
		}
	}
	// Float edges, sent as binary parameters: exact bits.
	floats := []float32{math.MaxFloat32, math.SmallestNonzeroFloat32, 16777217, float32(math.Copysign(0, -1)), 1e-30, -1.17549435e-38}
	doubles := []float64{1e-300, 5e-324, math.MaxFloat64, math.Copysign(0, -1), 0.30000000000000004, 2.2250738585072014e-308, -1.5e-310, math.Pi}
	rnd := rand.New(rand.NewPCG(1, 2))
	id := 100
	for i := range max(len(floats), len(doubles)) {
		var f, d any
		if i < len(floats) {
			f = floats[i]
		}
		if i < len(doubles) {
			d = doubles[i]
		}
		if _, err := c.ExecContext(ctx, "INSERT INTO `alltypes` (`id`, `f`, `dbl`) VALUES (?, ?, ?)", id, f, d); err != nil {
			t.Fatalf("insert floats %v %v: %v", f, d, err)
		}
		id++
	}
	for range 300 {
		f := math.Float32frombits(rnd.Uint32())
		for math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			f = math.Float32frombits(rnd.Uint32())
		}
		d := math.Float64frombits(rnd.Uint64())
		for math.IsNaN(d) || math.IsInf(d, 0) {
			d = math.Float64frombits(rnd.Uint64())
		}
		blob := make([]byte, rnd.IntN(40))
		for j := range blob {
			blob[j] = byte(rnd.Uint32())
		}
		if _, err := c.ExecContext(ctx, "INSERT INTO `alltypes` (`id`, `f`, `dbl`, `bi`, `vb`, `vc`, `dtm6`, `d65`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			id, f, d, int64(rnd.Uint64()), blob, randomText(rnd), fmt.Sprintf("2020-01-02 03:04:05.%06d", rnd.IntN(1000000)),
			fmt.Sprintf("%d.%d", rnd.Int64(), rnd.Uint64())); err != nil {
			t.Fatalf("insert random row: %v", err)
		}
		id++
	}
	// big: enough rows for many statements, and one row larger than a
	// statement's bound.
	var sb strings.Builder
	for i := 1; i <= 3000; i++ {
		if sb.Len() > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "(%d, REPEAT('p%d', 20), NULL)", i, i)
	}
	mustExec(t, c, "INSERT INTO `big` VALUES "+sb.String())
	huge := make([]byte, 3<<20)
	for i := range huge {
		huge[i] = byte(rnd.Uint32())
	}
	if _, err := c.ExecContext(ctx, "INSERT INTO `big` VALUES (5000, 'huge', ?)", huge); err != nil {
		t.Fatalf("insert huge row: %v", err)
	}
}

func allASCII() []byte {
	b := make([]byte, 128)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func randomText(rnd *rand.Rand) string {
	pieces := []string{"a", "'", "\\", "\x00", "\n", "\r", "\x1a", "😀", "é", "漢", "\"", "%", "_", " ", "`"}
	var b strings.Builder
	for range rnd.IntN(30) {
		b.WriteString(pieces[rnd.IntN(len(pieces))])
	}
	return b.String()
}

// showCreates returns every object's SHOW CREATE row, keyed by object,
// with the columns that describe the object (not the creation time).
func showCreates(t *testing.T, q Querier) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, r := range queryStrings(t, q, "SHOW FULL TABLES") {
		kind := "TABLE"
		switch r[1] {
		case "VIEW":
			kind = "VIEW"
		case "SEQUENCE":
			kind = "SEQUENCE"
		}
		out[kind+" "+r[0]] = slices.Concat(queryStrings(t, q, "SHOW CREATE "+kind+" "+mysqlx.QuoteIdent(r[0]))...)
	}
	for _, r := range queryStrings(t, q, "SELECT TRIGGER_NAME, ACTION_ORDER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()") {
		row := queryStrings(t, q, "SHOW CREATE TRIGGER "+mysqlx.QuoteIdent(r[0]))[0]
		out["TRIGGER "+r[0]] = append(row[:len(row)-1], "action_order="+r[1]) // last column: Created
	}
	for _, r := range queryStrings(t, q, "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()") {
		out[r[0]+" "+r[1]] = slices.Concat(queryStrings(t, q, "SHOW CREATE "+r[0]+" "+mysqlx.QuoteIdent(r[1]))...)
	}
	for _, r := range queryStrings(t, q, "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()") {
		out["EVENT "+r[0]] = slices.Concat(queryStrings(t, q, "SHOW CREATE EVENT "+mysqlx.QuoteIdent(r[0]))...)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	srv, src := testenv.MySQLDatabase(t)
	createFixture(t, srv, src)
	srcDB := srv.Open(t, src)

	var progress []backup.Progress
	var out, logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	info, err := New(srv.Config(src), Options{MaxStatementBytes: 64 << 10, ProgressRows: 1000, Logger: logger}).
		Dump(context.Background(), &out, func(p backup.Progress) { progress = append(progress, p) })
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	sqlText := out.Bytes()

	t.Run("format", func(t *testing.T) {
		lines := strings.Split(strings.TrimSuffix(string(sqlText), "\n"), "\n")
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, backup.TrailerPrefix+" on ") {
			t.Errorf("last line %q lacks the trailer", last)
		}
		for _, want := range []string{"SET NAMES utf8mb4;", "SET TIME_ZONE='+00:00';", "FOREIGN_KEY_CHECKS=0", "UNIQUE_CHECKS=0",
			"SQL_MODE='NO_AUTO_VALUE_ON_ZERO'", "DELIMITER ;;", "DELIMITER $$", "AUTO_INCREMENT=1000"} {
			if !bytes.Contains(sqlText, []byte(want)) {
				t.Errorf("dump lacks %q", want)
			}
		}
		if !strings.Contains(logs.String(), "table=myisam_t engine=MyISAM") {
			t.Errorf("no warning about the MyISAM table in the log:\n%s", logs.String())
		}
		if want := "DEFINER=" + mysqlx.QuoteIdent(srv.User) + "@`%`"; bytes.Count(sqlText, []byte(want)) < 15 {
			t.Errorf("dump drops DEFINER clauses: %d times %s", bytes.Count(sqlText, []byte(want)), want)
		}
		if !bytes.Contains(sqlText, []byte("-- ends in a comment with ;; and $$\n//\n")) {
			t.Errorf("the body ending in a comment is not followed by its delimiter on a line of its own")
		}
		// Statements stay under the bound unless one row is bigger.
		inserts := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "INSERT INTO `big`") {
				inserts++
				if len(l) > 64<<10 && strings.Contains(l, "),(") {
					t.Errorf("a multi-row INSERT of %d bytes exceeds the bound", len(l))
				}
			}
		}
		if inserts < 3 {
			t.Errorf("big: %d INSERT statements, want several", inserts)
		}
		// Views after what they use.
		pos := func(s string) int { return bytes.Index(sqlText, []byte(s)) }
		if !(pos("SQL SECURITY DEFINER VIEW `z_base` AS") < pos("SQL SECURITY DEFINER VIEW `a_top` AS")) {
			t.Errorf("view a_top is created before z_base, which it reads")
		}
		if pos("Stand-in for view `c1`") < 0 {
			t.Errorf("no stand-in for the cycle c1/c2")
		}
		if !(pos("FUNCTION `f_add`") < pos("VIEW `v_fn`")) {
			t.Errorf("view v_fn is created before the function it calls")
		}
		// idx_a: created with its primary key only, then its rows, then
		// its other indexes (FULLTEXT one at a time); the foreign keys once
		// every table has its rows, before the triggers.
		create := pos("CREATE TABLE `idx_a`")
		createText := string(sqlText[create : create+bytes.Index(sqlText[create:], []byte(";\n"))])
		if strings.Count(createText, "KEY `") != 0 || !strings.Contains(createText, "PRIMARY KEY (`id`)") || !strings.Contains(createText, "AUTO_INCREMENT=5000") {
			t.Errorf("idx_a is created with secondary keys, or without its primary key or counter:\n%s", createText)
		}
		lastRows := bytes.LastIndex(sqlText, []byte("INSERT INTO"))
		order := []int{create, pos("INSERT INTO `idx_a`"),
			pos("ALTER TABLE `idx_a`\n  ADD UNIQUE KEY `u_code` (`code`),\n  ADD KEY `k_n_m` (`n`,`m` DESC),\n  ADD KEY `k_title` (`title`(10)),\n  ADD SPATIAL KEY `sp_g` (`g`),\n  ADD KEY `k_b` (`b_id`),\n  ADD KEY `k_late` (`m`);"),
			pos("ALTER TABLE `idx_a`\n  ADD FULLTEXT KEY `ft_title` (`title`);"),
			pos("ALTER TABLE `idx_a`\n  ADD FULLTEXT KEY `ft_body` (`title`,`body`);"),
			pos("CREATE TABLE `idx_b`"), lastRows,
			pos("ALTER TABLE `idx_a`\n  ADD CONSTRAINT `fk_a_b` FOREIGN KEY (`b_id`) REFERENCES `idx_b` (`id`) ON UPDATE CASCADE;"),
			pos("ALTER TABLE `idx_b`\n  ADD CONSTRAINT `fk_b_a` FOREIGN KEY (`a_id`) REFERENCES `idx_a` (`id`) ON DELETE SET NULL;"),
			pos("TRIGGER `parent_bi`")}
		for i := 1; i < len(order); i++ {
			if order[i-1] < 0 || order[i] <= order[i-1] {
				t.Errorf("idx_a/idx_b statements out of order or missing: positions %v", order)
				break
			}
		}
	})

	t.Run("info", func(t *testing.T) {
		if info.Engine != "native" || info.ToolVersion != ToolVersion || info.Database != src ||
			!strings.Contains(info.ServerVersion, "MariaDB") || info.SnapshotAt.IsZero() {
			t.Errorf("info = %+v", info)
		}
		var names []string
		for _, ti := range info.Tables {
			names = append(names, ti.Name)
			if len(ti.Checksum) != 64 {
				t.Errorf("table %s: checksum %q", ti.Name, ti.Checksum)
			}
			if n := queryInt(t, srcDB, "SELECT COUNT(*) FROM "+mysqlx.QuoteIdent(ti.Name)); n != ti.Rows {
				t.Errorf("table %s: info says %d rows, source has %d", ti.Name, ti.Rows, n)
			}
		}
		want := []string{"alltypes", "big", "child", "composite", "empty", "idx_a", "idx_ab", "idx_b", "line\nbreak", "myisam_t", "nopk", "order", "parent", "plain", "select", "tëst.tbl", "we`ird name", "years"}
		if !slices.Equal(names, want) {
			t.Errorf("tables %q, want %q", names, want)
		}
		last := progress[len(progress)-1]
		if last.TablesDone != len(want) || last.TablesAll != len(want) || last.Bytes != int64(len(sqlText)) {
			t.Errorf("last progress %+v, dump has %d bytes", last, len(sqlText))
		}
		var rows int64
		for _, ti := range info.Tables {
			rows += ti.Rows
		}
		if last.Rows != rows {
			t.Errorf("progress counted %d rows, tables hold %d", last.Rows, rows)
		}
	})

	// The standard client and our own loader (what `backup restore` uses)
	// must both give back the source exactly.
	loaders := []struct {
		name string
		load func(t *testing.T, dst string)
	}{
		// --comments: the client otherwise strips comments, also inside
		// routine bodies (so does it with mysqldump's files).
		{"mariadb client", func(t *testing.T, dst string) { loadWithClient(t, srv, dst, sqlText, "--comments") }},
		{"backup restore loader", func(t *testing.T, dst string) {
			c := conn(t, srv.Open(t, dst))
			st, err := sqlload.Load(context.Background(), c, bytes.NewReader(sqlText), nil)
			if err != nil {
				t.Fatalf("sqlload: %v", err)
			}
			if st.Threads != 1 || st.Tables != int64(len(info.Tables)) {
				t.Errorf("sequential load: %d threads, %d tables, want 1, %d", st.Threads, st.Tables, len(info.Tables))
			}
		}},
		{"parallel loader", func(t *testing.T, dst string) {
			db := srv.Open(t, dst)
			// MemoryBudget 1: every statement waits in a read-ahead file.
			po := sqlload.ParallelOptions{Threads: 3, MemoryBudget: 1, TempDir: t.TempDir(),
				Open:    func(ctx context.Context) (*sql.Conn, error) { return db.Conn(ctx) },
				Release: func(c *sql.Conn) { _ = c.Raw(func(any) error { return driver.ErrBadConn }); _ = c.Close() },
			}
			st, err := po.Load(context.Background(), conn(t, db), bytes.NewReader(sqlText), nil)
			if err != nil {
				t.Fatalf("parallel sqlload: %v", err)
			}
			var rows int64
			for _, ti := range info.Tables {
				rows += ti.Rows
			}
			if st.Threads != 3 || st.Tables != int64(len(info.Tables)) || st.Rows != rows || st.Bytes != int64(len(sqlText)) {
				t.Errorf("parallel load: %+v, want 3 threads, %d tables, %d rows, %d bytes", st, len(info.Tables), rows, len(sqlText))
			}
			// Every table whose columns LOAD DATA takes had its rows sent
			// that way; alltypes (floats, binary, JSON …), big (a BLOB),
			// idx_a (a POINT) and years (YEAR) kept their INSERTs.
			fast := rows
			for _, ti := range info.Tables {
				if ti.Name == "alltypes" || ti.Name == "big" || ti.Name == "idx_a" || ti.Name == "years" {
					fast -= ti.Rows
				}
			}
			if st.SpillBytes == 0 {
				t.Errorf("nothing was read ahead to a file")
			}
			if left, _ := os.ReadDir(po.TempDir); len(left) != 0 {
				t.Errorf("read-ahead files left behind: %v", left)
			}
			if st.LoadDataRows != fast || st.LocalInfileOff {
				t.Errorf("parallel load sent %d rows as LOAD DATA (local_infile off: %v), want %d", st.LoadDataRows, st.LocalInfileOff, fast)
			}
		}},
	}
	for _, l := range loaders {
		load := l.load
		t.Run(l.name, func(t *testing.T) {
			_, dst := testenv.MySQLDatabase(t)
			load(t, dst)
			dstDB := srv.Open(t, dst)

			t.Run("checksum table", func(t *testing.T) {
				for _, ti := range info.Tables {
					q := "CHECKSUM TABLE %s." + mysqlx.QuoteIdent(ti.Name) + " EXTENDED"
					a := queryStrings(t, srcDB, fmt.Sprintf(q, mysqlx.QuoteIdent(src)))[0][1]
					b := queryStrings(t, dstDB, fmt.Sprintf(q, mysqlx.QuoteIdent(dst)))[0][1]
					if a != b || a == "<NULL>" {
						t.Errorf("table %s: CHECKSUM TABLE %s in the source, %s restored", ti.Name, a, b)
					}
				}
			})
			t.Run("show create", func(t *testing.T) {
				a, b := showCreates(t, srcDB), showCreates(t, dstDB)
				if len(a) < 27 {
					t.Fatalf("only %d objects in the source", len(a))
				}
				for k, v := range a {
					if !slices.Equal(v, b[k]) {
						t.Errorf("%s differs:\nsource:   %q\nrestored: %q", k, v, b[k])
					}
				}
				for k := range b {
					if _, ok := a[k]; !ok {
						t.Errorf("restored has extra object %s", k)
					}
				}
			})
			t.Run("rows and counters", func(t *testing.T) {
				for _, ti := range info.Tables {
					if n := queryInt(t, dstDB, "SELECT COUNT(*) FROM "+mysqlx.QuoteIdent(ti.Name)); n != ti.Rows {
						t.Errorf("table %s: %d rows restored, want %d", ti.Name, n, ti.Rows)
					}
				}
				q := "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"
				if a, b := queryStrings(t, srcDB, q), queryStrings(t, dstDB, q); !slices.EqualFunc(a, b, slices.Equal) {
					t.Errorf("AUTO_INCREMENT counters differ:\n%v\n%v", a, b)
				}
				if n := queryInt(t, dstDB, "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'parent'"); n != 1000 {
					t.Errorf("parent's AUTO_INCREMENT = %d restored, want 1000", n)
				}
				// Values cached by the source are skipped, as after a restart.
				q = "SELECT next_not_cached_value, cycle_count FROM `seq1`"
				if a, b := queryStrings(t, srcDB, q), queryStrings(t, dstDB, q); !slices.EqualFunc(a, b, slices.Equal) {
					t.Errorf("seq1: %v in the source, %v restored", a, b)
				}
			})
			t.Run("values", func(t *testing.T) {
				// The same values read back as text (generated columns too):
				// a second check besides CHECKSUM TABLE, with readable diffs.
				q := "SELECT *, HEX(`vb`), HEX(`lb`), HEX(`f`), `f` + 0e0, `dbl` + 0e0, HEX(`b64`), `inv` FROM `alltypes` ORDER BY `id`"
				a, b := queryStrings(t, srcDB, q), queryStrings(t, dstDB, q)
				if len(a) != len(b) {
					t.Fatalf("%d rows vs %d", len(a), len(b))
				}
				for i := range a {
					if !slices.Equal(a[i], b[i]) {
						t.Errorf("row %d differs:\n%q\n%q", i, a[i], b[i])
					}
				}
				if got := queryStrings(t, dstDB, "SELECT `vc`, `dt`, `dtm`, `tm6`, `yr`, `b1`+0, `en` FROM `alltypes` WHERE `id` = 3")[0]; got[1] != "0000-00-00" ||
					got[2] != "0000-00-00 00:00:00" || got[3] != "-838:59:59.000000" || got[4] != "0" || got[5] != "1" || got[6] != "it's" {
					t.Errorf("row 3 restored as %q", got)
				}
				if got := queryStrings(t, dstDB, "SELECT `e` FROM `v_latin1`")[0][0]; got != "éñ" {
					t.Errorf("latin1 view restored gives %q, want éñ", got)
				}
				if got := queryStrings(t, dstDB, "SELECT `note` FROM `child` WHERE `id` = 3")[0][0]; got != "é" {
					t.Errorf("child's note %q, want é from the latin1 trigger", got)
				}
				if got := queryStrings(t, dstDB, "SELECT `vc` IS NULL, `vc` = '', `vb` = '', LENGTH(`bl`), `lb` IS NULL FROM `alltypes` WHERE `id` IN (1, 2) ORDER BY `id`"); !slices.Equal(got[0], []string{"1", "<NULL>", "<NULL>", "<NULL>", "1"}) ||
					!slices.Equal(got[1], []string{"0", "1", "1", "0", "1"}) {
					t.Errorf("NULL/empty rows restored as %q", got)
				}
			})
			t.Run("table digest", func(t *testing.T) {
				for _, ti := range info.Tables {
					for db, q := range map[string]Querier{"source": srcDB, "restored": dstDB} {
						n, sum, err := TableDigest(context.Background(), q, ti.Name)
						if err != nil {
							t.Fatalf("%s: %v", ti.Name, err)
						}
						if n != ti.Rows || sum != ti.Checksum {
							t.Errorf("%s %s: digest %d %s, dump said %d %s", db, ti.Name, n, sum, ti.Rows, ti.Checksum)
						}
					}
				}
			})
			t.Run("dump of the restored copy is the same dump", func(t *testing.T) {
				again, info2 := dump(t, srv, dst, Options{MaxStatementBytes: 64 << 10})
				if a, b := stripVolatile(string(sqlText)), stripVolatile(string(again)); a != b {
					al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
					for i := range min(len(al), len(bl)) {
						if al[i] != bl[i] {
							j := 0
							for j < min(len(al[i]), len(bl[i])) && al[i][j] == bl[i][j] {
								j++
							}
							j = max(0, j-60)
							t.Fatalf("dumps differ first at line %d, byte %d:\n%.300q\n%.300q", i+1, j+60, al[i][j:], bl[i][j:])
						}
					}
					t.Fatalf("dumps differ in length: %d vs %d lines", len(al), len(bl))
				}
				if !slices.Equal(info.Tables, info2.Tables) {
					t.Errorf("table infos differ:\n%v\n%v", info.Tables, info2.Tables)
				}
			})

		})
	}
}

// With StripDefiners the dump has no DEFINER clauses, so an account with
// rights on the target database only (no SUPER, no SET USER) can load it
// with the standard client.
func TestLoadAsAnotherAccount(t *testing.T) {
	srv, src := testenv.MySQLDatabase(t)
	createFixture(t, srv, src)
	sqlText, _ := dump(t, srv, src, Options{StripDefiners: true})
	if bytes.Contains(sqlText, []byte("DEFINER=`")) || !bytes.Contains(sqlText, []byte("-- Definers: stripped")) {
		t.Fatalf("StripDefiners left a DEFINER clause, or the header does not say so")
	}
	_, dst := testenv.MySQLDatabase(t)
	other := testenv.MySQLAccount(t, srv, "GRANT ALL PRIVILEGES ON "+mysqlx.QuoteIdent(dst)+".* TO {user}")
	user := other.User
	loadWithClient(t, other, dst, sqlText)

	db := srv.Open(t, dst)
	for _, q := range []string{
		"SELECT DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
		"SELECT DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
		"SELECT DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()",
		"SELECT DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()",
	} {
		rows := queryStrings(t, db, q)
		if len(rows) == 0 {
			t.Errorf("%s: no objects", q)
		}
		for _, r := range rows {
			if r[0] != user+"@%" {
				t.Errorf("%s: definer %s, want %s@%%", q, r[0], user)
			}
		}
	}
	if n := queryInt(t, db, "SELECT `three` FROM `v_fn`"); n != 3 {
		t.Errorf("v_fn gives %d as the new account", n)
	}
}

func TestDumpEmptyDatabase(t *testing.T) {
	srv, src := testenv.MySQLDatabase(t)
	sqlText, info := dump(t, srv, src, Options{})
	if len(info.Tables) != 0 || !bytes.Contains(sqlText, []byte("\n"+backup.TrailerPrefix+" on ")) {
		t.Fatalf("info %+v, dump:\n%s", info, sqlText)
	}
	_, dst := testenv.MySQLDatabase(t)
	loadWithClient(t, srv, dst, sqlText)
}

// TestDumpRefusesInterruptedRestore: a database holding an interrupted
// restore's marker is not backed up (the copy is partial), and the error
// says what to do.
func TestDumpRefusesInterruptedRestore(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)",
		"CREATE TABLE `"+backup.RestoreMarker+"` (`backup` VARCHAR(255) NOT NULL, `started_at` DATETIME NOT NULL)")
	_, err := New(srv.Config(name), Options{}).Dump(context.Background(), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "interrupted restore") || !strings.Contains(err.Error(), "backup restore") {
		t.Fatalf("dump of a half-restored database: %v, want a refusal saying to restore again", err)
	}
}
