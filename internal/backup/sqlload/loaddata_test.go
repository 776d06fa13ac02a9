package sqlload

import "testing"

func TestInsertToTSV(t *testing.T) {
	tests := []struct {
		name, in         string
		table, cols, tsv string
		rows             int64
	}{
		{"numbers and NULL", "INSERT INTO `t` (`a`,`b`,`c`) VALUES (1,-2.50,NULL),(18446744073709551615,-0e0,1e-7)",
			"`t`", "`a`,`b`,`c`", "1\t-2.50\t\\N\n18446744073709551615\t-0e0\t1e-7\n", 2},
		{"escapes", `INSERT INTO ` + "`t` (`s`)" + ` VALUES ('a\'b\\c\0d\ne\rf\Zg\th\"i'),('\%\_\x'),('it''s'),(''),('\\N'),('NULL')`,
			"`t`", "`s`", "a'b\\\\c\\0d\\ne\rf\x1ag\\th\"i\n\\\\%\\\\_x\nit's\n\n\\\\N\nNULL\n", 6},
		{"raw tab, newline and NUL", "INSERT INTO `t` (`s`) VALUES ('\t\n\x00\\')", "", "", "", 0},
		{"raw bytes escaped", "INSERT INTO `t` (`s`) VALUES ('\t\n\x00')",
			"`t`", "`s`", "\\t\\n\\0\n", 1},
		{"names with backquotes, commas and parentheses", "INSERT INTO `we``ird (t)` (`a``,b`,`c)`) VALUES (1,'x),(y')",
			"`we``ird (t)`", "`a``,b`,`c)`", "1\tx),(y\n", 1},
		{"utf-8", "INSERT INTO `tëst` (`値`) VALUES ('😀 é')", "`tëst`", "`値`", "😀 é\n", 1},
		// Not converted: sent as written.
		{"hex", "INSERT INTO `t` (`a`) VALUES (0x00FF)", "", "", "", 0},
		{"bit", "INSERT INTO `t` (`a`) VALUES (b'1')", "", "", "", 0},
		{"introducer", "INSERT INTO `t` (`a`) VALUES (_binary 'x')", "", "", "", 0},
		{"expression", "INSERT INTO `t` (`a`) VALUES (1+1)", "", "", "", 0},
		{"function", "INSERT INTO `t` (`a`) VALUES (NOW())", "", "", "", 0},
		{"NULL prefix", "INSERT INTO `t` (`a`) VALUES (NULLIF(1,1))", "", "", "", 0},
		{"no column list", "INSERT INTO `t` VALUES (1)", "", "", "", 0},
		{"too few values", "INSERT INTO `t` (`a`,`b`) VALUES (1)", "", "", "", 0},
		{"too many values", "INSERT INTO `t` (`a`) VALUES (1,2)", "", "", "", 0},
		{"unterminated string", "INSERT INTO `t` (`a`) VALUES ('x", "", "", "", 0},
		{"trailing text", "INSERT INTO `t` (`a`) VALUES (1) ON DUPLICATE KEY UPDATE a=1", "", "", "", 0},
		{"REPLACE", "REPLACE INTO `t` (`a`) VALUES (1)", "", "", "", 0},
		{"qualified name", "INSERT INTO `d`.`t` (`a`) VALUES (1)", "", "", "", 0},
		{"empty name", "INSERT INTO `` (`a`) VALUES (1)", "", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			table, cols, out, rows, ok := insertToTSV(dst, []byte(tt.in))
			if want := tt.tsv != ""; ok != want {
				t.Fatalf("ok = %v, want %v (out %q)", ok, want, out)
			}
			if !ok {
				if string(out) != "keep" {
					t.Errorf("a refused statement left %q in the buffer", out)
				}
				return
			}
			if string(table) != tt.table || string(cols) != tt.cols || string(out) != "keep"+tt.tsv || rows != tt.rows {
				t.Errorf("got table %s, columns %s, %d rows:\n%q\nwant %s, %s, %d rows:\n%q", table, cols, rows, out[4:], tt.table, tt.cols, tt.rows, tt.tsv)
			}
		})
	}
}
