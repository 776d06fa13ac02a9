package native

import (
	"slices"
	"testing"
)

func TestIdentifiers(t *testing.T) {
	tests := []struct {
		sql  string
		want []string
	}{
		{"select `t`.`a` AS `a` from `t`", []string{"t", "a", "a", "t"}},
		{"select 'x`y' AS `s`", []string{"s"}},
		{`select "q` + "`" + `v" AS ` + "`s`", []string{"s"}},
		{"select 'it''s `v`', 'a\\'`v`' from `w`", []string{"w"}},
		{"select `we``ird` from `x`", []string{"we`ird", "x"}},
		{"select 1", nil},
	}
	for _, tt := range tests {
		if got := identifiers(tt.sql); !slices.Equal(got, tt.want) {
			t.Errorf("identifiers(%q) = %q, want %q", tt.sql, got, tt.want)
		}
	}
}

func TestOrderViews(t *testing.T) {
	tests := []struct {
		name         string
		defs         map[string]string
		order        []string
		placeholders []string
	}{
		{"none", map[string]string{}, nil, nil},
		{"independent views by name", map[string]string{
			"b": "select `t`.`x` AS `x` from `t`",
			"a": "select 1 AS `one`",
		}, []string{"a", "b"}, nil},
		{"view on view, against name order", map[string]string{
			"a_top":  "select `z_base`.`id` AS `id` from `z_base`",
			"z_base": "select `parent`.`id` AS `id` from `parent`",
		}, []string{"z_base", "a_top"}, nil},
		{"chain of three", map[string]string{
			"a": "select `b`.`x` AS `x` from `b`",
			"b": "select `c`.`x` AS `x` from `c`",
			"c": "select 1 AS `x`",
		}, []string{"c", "b", "a"}, nil},
		{"diamond", map[string]string{
			"top":   "select `l`.`x` AS `x` from `l` join `r`",
			"l":     "select `base`.`x` AS `x` from `base`",
			"r":     "select `base`.`x` AS `x` from `base`",
			"base":  "select 1 AS `x`",
			"other": "select 2 AS `y`",
		}, []string{"base", "l", "other", "r", "top"}, nil},
		{"a name in a string is no reference", map[string]string{
			"a": "select 'from `b`' AS `s`",
			"b": "select `a`.`s` AS `s` from `a`",
		}, []string{"a", "b"}, nil},
		{"qualified with the database", map[string]string{
			"a": "select `b`.`x` AS `x` from `db`.`b`",
			"b": "select 1 AS `x`",
		}, []string{"b", "a"}, nil},
		{"a column named like a view makes a false cycle", map[string]string{
			"c1": "select 1 AS `c2`",
			"c2": "select `c1`.`c2` AS `x` from `c1`",
		}, []string{"c2", "c1"}, []string{"c1"}},
		{"a real cycle", map[string]string{
			"x": "select `y`.`a` AS `a` from `y`",
			"y": "select `x`.`a` AS `a` from `x`",
			"z": "select `x`.`a` AS `a` from `x`",
		}, []string{"y", "x", "z"}, []string{"x"}},
		{"self reference is ignored", map[string]string{
			"s": "select `s`.`a` AS `a` from `t` `s`",
		}, []string{"s"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order, ph := orderViews(tt.defs)
			if !slices.Equal(order, tt.order) || !slices.Equal(ph, tt.placeholders) {
				t.Errorf("got %q with stand-ins %q, want %q with %q", order, ph, tt.order, tt.placeholders)
			}
			// Every view comes after the views it reads, unless one of
			// them has a stand-in.
			pos := map[string]int{}
			for i, v := range order {
				pos[v] = i
			}
			for v, def := range tt.defs {
				for _, id := range identifiers(def) {
					if _, isView := tt.defs[id]; isView && id != v && pos[id] > pos[v] && !slices.Contains(ph, id) {
						t.Errorf("%s comes before %s, which it reads", v, id)
					}
				}
			}
		})
	}
}
