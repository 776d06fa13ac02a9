package tasks

import (
	"errors"
	"testing"

	"github.com/hibiken/asynq"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		wantErr bool
	}{
		{"empty object", `{}`, false},
		{"not json", `not json`, true},
		{"empty", ``, true},
		{"unknown field", `{"password":"x"}`, true},
		{"array", `[]`, true},
		{"trailing data", `{} {}`, true},
	}
	if _, err := Decode[HealthCheck](asynq.NewTask(TypeBackupRun, []byte(`{}`))); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("a backup:run task decoded as health:check: %v, want a permanent error", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode[HealthCheck](asynq.NewTask(TypeHealthCheck, []byte(tt.payload)))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Decode(%q) error = %v, want error %v", tt.payload, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, asynq.SkipRetry) {
				t.Errorf("Decode(%q) error %v does not wrap asynq.SkipRetry", tt.payload, err)
			}
		})
	}
}

func TestNewRoundTrip(t *testing.T) {
	task, err := New(HealthCheck{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != TypeHealthCheck {
		t.Errorf("type = %q", task.Type())
	}
	if _, err := Decode[HealthCheck](task); err != nil {
		t.Fatal(err)
	}
}
