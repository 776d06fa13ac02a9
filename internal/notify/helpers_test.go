package notify

import (
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/health"
)

// marker is in every sample event (as its host, shown in every footer):
// if it arrives intact, UTF-8 survived templates, encoding and SMTP.
const marker = "caja-ñandú-cafetería-€"

const (
	dbPassword   = "db-s3cret-Pw"
	smtpPassword = "smtp-pa55-W0rd"
)

var sampleTime = time.Date(2026, 11, 26, 2, 0, 5, 0, time.UTC)

// testConfig is a configuration with secrets set, Spanish by default.
func testConfig(tb testing.TB) *config.Config {
	tb.Helper()
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		tb.Fatal(err)
	}
	return &config.Config{
		NotifyLang:   "es",
		PublicURL:    "https://ops.example.org",
		ScheduleTZ:   madrid,
		BackupNotify: "failure",
		DB:           config.DB{Name: "cantina", User: "cantina", Password: dbPassword, Host: "db.internal", Port: 3306},
		Email: config.Email{
			Host: "127.0.0.1", Port: 25, From: "cantina@example.com", Password: smtpPassword,
			To: []string{"admin@example.com", "ops@cantina.test"},
		},
	}
}

// sample returns realistic data for kind.
func sample(kind Kind) Data {
	d := Data{Database: "cantina", Time: sampleTime, Host: marker}
	attempt := Attempt{TaskID: "backup:run@2026-11-26T02:00:00Z", Queue: "critical", Number: 4, Max: 4}
	switch kind {
	case KindBackupSucceeded:
		d.Backup = &Backup{Name: "cantina-20261126T020000Z.sql.gz", Engine: "native", Location: "./backups",
			Bytes: 12_345_678, RawBytes: 65_432_100, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			Tables: 42, Rows: 1_234_567, Duration: 95 * time.Second, Attempt: attempt}
	case KindBackupFailed:
		d.Backup = &Backup{Name: "cantina-20261126T020000Z.sql.gz", Engine: "native",
			Error: "dial tcp 10.0.0.5:3306: connect: connection refused", Attempt: attempt}
	case KindVerifyFailed:
		d.Verify = &Verify{Name: "cantina-20261126T020000Z.sql.gz", Stage: "restore-test",
			Error: "table ventas: 10 rows restored, 11 in the snapshot", Attempt: attempt}
	case KindHealthDegraded:
		d.Health = &Health{Status: health.Warn, Repeat: 6 * time.Hour, Checks: []Check{
			{Name: "disk:utilization", Status: health.Warn, Output: "93% of /var used", Value: "93 %", Change: health.Firing, Since: sampleTime}}}
	case KindHealthFailed:
		d.Health = &Health{Status: health.Fail, Repeat: 6 * time.Hour, Checks: []Check{
			{Name: "database:responseTime", Status: health.Fail, Output: "select 1: dial tcp 10.0.0.5:3306: connect: connection refused", Change: health.Firing, Since: sampleTime},
			{Name: "disk:utilization", Status: health.Fail, Value: "96 %", Change: health.Worse, Was: health.Warn, Since: sampleTime.Add(-3 * time.Hour)},
			{Name: "cpu:utilization", Status: health.Pass, Change: health.Recovering, Was: health.Warn, Since: sampleTime.Add(-5 * time.Hour)},
		}, Recovered: []Check{{Name: "queue:memory", Status: health.Pass, Change: health.Resolved, Was: health.Warn, Since: sampleTime.Add(-9 * time.Hour)}}}
	case KindHealthReminder:
		d.Health = &Health{Status: health.Fail, Repeat: 6 * time.Hour, Checks: []Check{
			{Name: "backups:age", Status: health.Fail, Output: "newest verified backup is 31 h old", Value: "31 h", Change: health.Still, Was: health.Fail, Since: sampleTime.Add(-7 * time.Hour)},
			{Name: "disk:utilization", Status: health.Warn, Value: "85 %", Change: health.Better, Was: health.Fail, Since: sampleTime.Add(-7 * time.Hour)},
		}}
	case KindHealthRecovered:
		d.Health = &Health{Status: health.Pass, Repeat: 6 * time.Hour, Recovered: []Check{
			{Name: "database:responseTime", Status: health.Pass, Value: "3 ms", Change: health.Resolved, Was: health.Fail, Since: sampleTime.Add(-75 * time.Minute)},
			{Name: "health:task", Status: health.Pass, Change: health.Resolved, Was: health.Fail, Since: sampleTime.Add(-75 * time.Minute), Gone: true},
		}}
	case KindCleanupReport:
		d.Cleanup = &Cleanup{ID: "backup:cleanup@2026-11-26T02:30:00Z", Kept: 30, FreedBytes: 2_400_000,
			Deleted: []File{{Name: "cantina-20261026T020000Z.sql.gz", Bytes: 1_200_000}, {Name: "cantina-20261025T020000Z.sql.gz", Bytes: 1_200_000}},
			Errors:  []string{"remove cantina-20261024T020000Z.sql.gz: permission denied"}}
	}
	return d
}

// subjects are the expected subject lines of the samples.
var subjects = map[string]map[Kind]string{
	"es": {
		KindBackupSucceeded: "[cantina-ops] ✅ Copia de seguridad completada: cantina",
		KindBackupFailed:    "[cantina-ops] ❌ Copia de seguridad fallida: cantina",
		KindVerifyFailed:    "[cantina-ops] ❌ Verificación de copia fallida: cantina",
		KindHealthDegraded:  "[cantina-ops] ⚠️ Servidor degradado: cantina",
		KindHealthFailed:    "[cantina-ops] 🔴 Servidor en fallo: cantina",
		KindHealthReminder:  "[cantina-ops] ⏰ Sigue en fallo: cantina",
		KindHealthRecovered: "[cantina-ops] 🟢 Servidor recuperado: cantina",
		KindCleanupReport:   "[cantina-ops] 🧹 Limpieza de copias con errores: cantina (2 borradas)",
		KindTest:            "[cantina-ops] 📧 Correo de prueba: cantina",
	},
	"en": {
		KindBackupSucceeded: "[cantina-ops] ✅ Backup succeeded: cantina",
		KindBackupFailed:    "[cantina-ops] ❌ Backup failed: cantina",
		KindVerifyFailed:    "[cantina-ops] ❌ Backup verification failed: cantina",
		KindHealthDegraded:  "[cantina-ops] ⚠️ Server degraded: cantina",
		KindHealthFailed:    "[cantina-ops] 🔴 Server failing: cantina",
		KindHealthReminder:  "[cantina-ops] ⏰ Still failing: cantina",
		KindHealthRecovered: "[cantina-ops] 🟢 Server recovered: cantina",
		KindCleanupReport:   "[cantina-ops] 🧹 Backup cleanup with errors: cantina (2 deleted)",
		KindTest:            "[cantina-ops] 📧 Test email: cantina",
	},
}

// bodyPhrases are words each kind's text must contain, proving the
// template shows the event's substance (error, checks, files).
var bodyPhrases = map[Kind][]string{
	KindBackupSucceeded: {"cantina-20261126T020000Z.sql.gz", "9f86d081884c7d65", "1 min 35 s"},
	KindBackupFailed:    {"connection refused", "4", "https://ops.example.org/monitoring/queues/critical/tasks/backup:run@2026-11-26T02:00:00Z", "cantina-ops backup run"},
	KindVerifyFailed:    {"10 rows restored", "cantina-ops backup verify --latest --restore-test"},
	KindHealthDegraded:  {"disk:utilization", "93 %", "93% of /var used"},
	KindHealthFailed:    {"database:responseTime", "select 1: dial tcp", "disk:utilization", "96 %", "cantina-ops health --verbose", "queue:memory", "cpu:utilization", "6 h"},
	KindHealthReminder:  {"backups:age", "31 h old", "disk:utilization", "85 %", "6 h"},
	KindHealthRecovered: {"database:responseTime", "health:task"},
	KindCleanupReport:   {"cantina-20261026T020000Z.sql.gz", "permission denied", "30"},
	KindTest:            {"ñ á é í ó ú ü ¿? ¡! €"},
}

// footers prove the language.
var footers = map[string]string{
	"es": "Recibes este aviso porque tu dirección",
	"en": "You receive this because your address",
}
