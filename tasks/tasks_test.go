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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p HealthCheck
			err := Decode(asynq.NewTask(TypeHealthCheck, []byte(tt.payload)), &p)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Decode(%q) error = %v, want error %v", tt.payload, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, asynq.SkipRetry) {
				t.Errorf("Decode(%q) error %v does not wrap asynq.SkipRetry", tt.payload, err)
			}
		})
	}
}

func TestNewHealthCheckRoundTrip(t *testing.T) {
	task, err := NewHealthCheck(HealthCheck{})
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != TypeHealthCheck {
		t.Errorf("type = %q", task.Type())
	}
	var p HealthCheck
	if err := Decode(task, &p); err != nil {
		t.Fatal(err)
	}
}
