package sqlload

import "testing"

func TestFindDefiner(t *testing.T) {
	tests := []struct {
		in                  string
		ok                  bool
		account, kind, name string
	}{
		{"CREATE DEFINER=`root`@`localhost` PROCEDURE `p`() SELECT 1", true, "`root`@`localhost`", "PROCEDURE", "`p`"},
		{"CREATE ALGORITHM=UNDEFINED DEFINER=`u`@`%` SQL SECURITY DEFINER VIEW `v` AS select 1", true, "`u`@`%`", "VIEW", "`v`"},
		{"/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`own er`@`%` SQL SECURITY INVOKER */\n/*!50001 VIEW `v1` AS select 1 */", true, "`own er`@`%`", "VIEW", "`v1`"},
		{"/*!50003 CREATE*/ /*!50017 DEFINER=`ow``n`@`10.%`*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.s = 'x' */", true, "`ow``n`@`10.%`", "TRIGGER", "tr"},
		{"/*!50106 CREATE*/ /*!50117 DEFINER=`u`@`%`*/ /*!50106 EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1 */", true, "`u`@`%`", "EVENT", "`e`"},
		{"CREATE DEFINER='u'@'h' FUNCTION db.`f`() RETURNS INT RETURN 1", true, "'u'@'h'", "FUNCTION", "db.`f`"},
		{"CREATE DEFINER = root@localhost AGGREGATE FUNCTION f() RETURNS INT BEGIN RETURN 1; END", true, "root@localhost", "FUNCTION", "f"},
		{"create or replace definer=`a`@`b` view if not exists v as select 1", true, "`a`@`b`", "VIEW", "v"},
		{"CREATE DEFINER=`role_only` PACKAGE BODY pk AS BEGIN END", true, "`role_only`", "PACKAGE BODY", "pk"},
		{"CREATE DEFINER=CURRENT_USER() PROCEDURE p() SELECT 1", true, "CURRENT_USER()", "PROCEDURE", "p"},
		// Not a DEFINER clause of the statement's head.
		{"CREATE PROCEDURE p() SELECT 'DEFINER=`x`@`y`'", false, "", "", ""},
		{"CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 'CREATE DEFINER=`x`@`y` VIEW v'", false, "", "", ""},
		{"CREATE DEFINER=`unterminated PROCEDURE", false, "", "", ""},
		{"CREATE DEFINER=`u`@`h` TABLE t (a INT)", false, "", "", ""},
		{"INSERT INTO t VALUES ('CREATE DEFINER=`x`@`y` VIEW v')", false, "", "", ""},
		{"", false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, ok := FindDefiner([]byte(tt.in))
			if ok != tt.ok {
				t.Fatalf("found = %v, want %v (%+v)", ok, tt.ok, d)
			}
			if !ok {
				return
			}
			if d.Account != tt.account || d.Kind != tt.kind || d.Name != tt.name {
				t.Errorf("got account %s kind %s name %s, want %s %s %s", d.Account, d.Kind, d.Name, tt.account, tt.kind, tt.name)
			}
			if got := tt.in[d.Start : d.Start+len("DEFINER")]; got != "DEFINER" && got != "definer" {
				t.Errorf("Start points at %q", got)
			}
		})
	}
}

func TestRewriteDefiner(t *testing.T) {
	const current = "rest`orer@%"
	tests := []struct{ name, in, want, report string }{
		{"view", "CREATE ALGORITHM=UNDEFINED DEFINER=`admin`@`%` SQL SECURITY DEFINER VIEW `v_x` AS select 'DEFINER=`admin`@`%`' AS `d`",
			"CREATE ALGORITHM=UNDEFINED DEFINER=CURRENT_USER SQL SECURITY DEFINER VIEW `v_x` AS select 'DEFINER=`admin`@`%`' AS `d`",
			"view `v_x`: DEFINER `admin`@`%` → current user `rest``orer`@`%`"},
		{"mysqldump view", "/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`admin`@`%` SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select 1 */",
			"/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=CURRENT_USER SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select 1 */",
			"view `v`: DEFINER `admin`@`%` → current user `rest``orer`@`%`"},
		{"mysqldump trigger", "/*!50003 CREATE*/ /*!50017 DEFINER=`a`@`h`*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.s = 'DEFINER=`a`@`h`' */",
			"/*!50003 CREATE*/ /*!50017 DEFINER=CURRENT_USER*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.s = 'DEFINER=`a`@`h`' */",
			"trigger tr: DEFINER `a`@`h` → current user `rest``orer`@`%`"},
		{"procedure with definer in body", "CREATE DEFINER=`a`@`h` PROCEDURE `p`()\nBEGIN\n  -- CREATE DEFINER=`b`@`h` VIEW w\n  SELECT 'DEFINER=`c`@`h`';\nEND",
			"CREATE DEFINER=CURRENT_USER PROCEDURE `p`()\nBEGIN\n  -- CREATE DEFINER=`b`@`h` VIEW w\n  SELECT 'DEFINER=`c`@`h`';\nEND",
			"procedure `p`: DEFINER `a`@`h` → current user `rest``orer`@`%`"},
		{"function", "CREATE DEFINER='a'@'h' FUNCTION `f`() RETURNS int(11) RETURN 1", "CREATE DEFINER=CURRENT_USER FUNCTION `f`() RETURNS int(11) RETURN 1",
			"function `f`: DEFINER 'a'@'h' → current user `rest``orer`@`%`"},
		{"event", "CREATE DEFINER=`a`@`%` EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1", "CREATE DEFINER=CURRENT_USER EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1",
			"event `e`: DEFINER `a`@`%` → current user `rest``orer`@`%`"},
		{"already the current user", "CREATE DEFINER=`rest``orer`@`%` PROCEDURE p() SELECT 1", "CREATE DEFINER=`rest``orer`@`%` PROCEDURE p() SELECT 1", ""},
		{"current user, other quoting", "CREATE DEFINER='rest`orer'@'%' PROCEDURE p() SELECT 1", "CREATE DEFINER='rest`orer'@'%' PROCEDURE p() SELECT 1", ""},
		{"same user, other host", "CREATE DEFINER=`rest``orer`@`localhost` PROCEDURE p() SELECT 1", "CREATE DEFINER=CURRENT_USER PROCEDURE p() SELECT 1",
			"procedure p: DEFINER `rest``orer`@`localhost` → current user `rest``orer`@`%`"},
		{"CURRENT_USER", "CREATE DEFINER=CURRENT_USER PROCEDURE p() SELECT 1", "CREATE DEFINER=CURRENT_USER PROCEDURE p() SELECT 1", ""},
		{"no definer", "CREATE PROCEDURE p() SELECT 'DEFINER=`x`@`y`'", "CREATE PROCEDURE p() SELECT 'DEFINER=`x`@`y`'", ""},
		{"a table", "CREATE TABLE `t` (`a` varchar(10) DEFAULT 'DEFINER=`x`@`y`')", "CREATE TABLE `t` (`a` varchar(10) DEFAULT 'DEFINER=`x`@`y`')", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, report := rewriteDefiner([]byte(tt.in), current)
			if string(got) != tt.want {
				t.Errorf("got\n %s\nwant\n %s", got, tt.want)
			}
			if report != tt.report {
				t.Errorf("report %q, want %q", report, tt.report)
			}
		})
	}
}
