package backup

import "testing"

func TestCanNameDefiners(t *testing.T) {
	tests := []struct {
		name   string
		grants []string
		want   bool
	}{
		{"all on *.*", []string{"GRANT ALL PRIVILEGES ON *.* TO `cantina`@`%` IDENTIFIED BY PASSWORD '*AB' WITH GRANT OPTION"}, true},
		{"super", []string{"GRANT USAGE ON *.* TO `a`@`%`", "GRANT SELECT, SUPER ON *.* TO `a`@`%`"}, true},
		{"set user", []string{"GRANT SELECT, INSERT, SET USER ON *.* TO `a`@`%`"}, true},
		{"mysql 8 dynamic", []string{"GRANT USAGE ON *.* TO `a`@`%`", "GRANT SYSTEM_USER,SET_USER_ID ON *.* TO `a`@`%`"}, true},
		{"all on one database (JawsDB)", []string{"GRANT USAGE ON *.* TO `a`@`%` IDENTIFIED BY PASSWORD '*AB'", "GRANT ALL PRIVILEGES ON `pos`.* TO `a`@`%`"}, false},
		{"super on a database is not a thing", []string{"GRANT SUPER ON `pos`.* TO `a`@`%`"}, false},
		{"a role only", []string{"GRANT `admin_role` TO `a`@`%`", "GRANT USAGE ON *.* TO `a`@`%`"}, false},
		{"column grant", []string{"GRANT SELECT (`super`, `x ON *.* TO`) ON `pos`.`t` TO `a`@`%`"}, false},
		{"nothing", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := canNameDefiners(tt.grants); got != tt.want {
				t.Errorf("canNameDefiners = %v, want %v", got, tt.want)
			}
		})
	}
}
