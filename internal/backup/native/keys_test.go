package native

import (
	"slices"
	"testing"
)

func TestDeferKeys(t *testing.T) {
	const create = "CREATE TABLE `t` (\n" +
		"  `id` int(11) NOT NULL AUTO_INCREMENT,\n" +
		"  `a` varchar(50) NOT NULL,\n" +
		"  `g` point NOT NULL,\n" +
		"  `p` int(11) DEFAULT NULL,\n" +
		"  PRIMARY KEY (`id`),\n" +
		"  UNIQUE KEY `u``a` (`a`),\n" +
		"  KEY `k_p` (`p`),\n" +
		"  SPATIAL KEY `sp` (`g`),\n" +
		"  FULLTEXT KEY `ft1` (`a`),\n" +
		"  FULLTEXT KEY `ft2` (`a`),\n" +
		"  CONSTRAINT `fk_p` FOREIGN KEY (`p`) REFERENCES `u` (`id`),\n" +
		"  CONSTRAINT `chk` CHECK (`p` > 0)\n" +
		") ENGINE=InnoDB AUTO_INCREMENT=1000 DEFAULT CHARSET=utf8mb4"
	meta := func() *tableMeta {
		return &tableMeta{name: "t", primary: []string{"id"}, autoInc: "id", indexes: []string{"u`a", "k_p", "sp", "ft1", "ft2"}}
	}

	t.Run("split", func(t *testing.T) {
		got, ok := deferKeys(create, meta(), 1)
		if !ok {
			t.Fatal("not split")
		}
		wantCreate := "CREATE TABLE `t` (\n" +
			"  `id` int(11) NOT NULL AUTO_INCREMENT,\n" +
			"  `a` varchar(50) NOT NULL,\n" +
			"  `g` point NOT NULL,\n" +
			"  `p` int(11) DEFAULT NULL,\n" +
			"  PRIMARY KEY (`id`),\n" +
			"  CONSTRAINT `chk` CHECK (`p` > 0)\n" +
			") ENGINE=InnoDB AUTO_INCREMENT=1000 DEFAULT CHARSET=utf8mb4"
		if got.create != wantCreate {
			t.Errorf("create:\n%s\nwant:\n%s", got.create, wantCreate)
		}
		wantIdx := []string{
			"ALTER TABLE `t`\n  ADD UNIQUE KEY `u``a` (`a`),\n  ADD KEY `k_p` (`p`),\n  ADD SPATIAL KEY `sp` (`g`)",
			"ALTER TABLE `t`\n  ADD FULLTEXT KEY `ft1` (`a`)",
			"ALTER TABLE `t`\n  ADD FULLTEXT KEY `ft2` (`a`)",
		}
		if !slices.Equal(got.indexes, wantIdx) {
			t.Errorf("indexes:\n%q\nwant:\n%q", got.indexes, wantIdx)
		}
		if want := "ALTER TABLE `t`\n  ADD CONSTRAINT `fk_p` FOREIGN KEY (`p`) REFERENCES `u` (`id`)"; got.foreign != want {
			t.Errorf("foreign %q, want %q", got.foreign, want)
		}
	})

	// Anything unusual keeps the definition whole.
	for _, tc := range []struct {
		name   string
		create string
		meta   func(*tableMeta)
		nfk    int
	}{
		{"no primary key", create, func(m *tableMeta) { m.primary = nil }, 1},
		{"auto-increment column not first in the primary key", create, func(m *tableMeta) { m.primary = []string{"a", "id"} }, 1},
		{"an index SHOW INDEX lists but the definition does not", create, func(m *tableMeta) { m.indexes = append(m.indexes, "more") }, 1},
		{"an index named differently", create, func(m *tableMeta) { m.indexes[1] = "other" }, 1},
		{"a foreign key count that differs", create, func(*tableMeta) {}, 2},
		{"MyISAM", "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`),\n  KEY `k` (`id`)\n) ENGINE=MyISAM", func(m *tableMeta) { m.autoInc, m.indexes = "", []string{"k"} }, 0},
		{"partitioned", "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`),\n  KEY `k` (`id`)\n) ENGINE=InnoDB\n PARTITION BY HASH (`id`)\nPARTITIONS 2", func(m *tableMeta) { m.autoInc, m.indexes = "", []string{"k"} }, 0},
		{"nothing to defer", "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB", func(m *tableMeta) { m.autoInc, m.indexes = "", nil }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := meta()
			tc.meta(m)
			got, ok := deferKeys(tc.create, m, tc.nfk)
			if ok || got.create != tc.create || got.indexes != nil || got.foreign != "" {
				t.Errorf("split: %v %+v", ok, got)
			}
		})
	}
}
