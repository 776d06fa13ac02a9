package main

import (
	"context"
	"errors"
	"fmt"
)

// runConfig implements `config check`: validate, print the effective
// configuration with secrets redacted, exit non-zero on any problem.
func runConfig(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(a.stderr, "Usage: cantina-ops config check")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errUsage
	}
	fs := newFlags(a, "config check", "")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, _, err := a.load()
	if err != nil {
		var ce *configError
		if errors.As(err, &ce) {
			fmt.Fprintln(a.stderr, ce.Error())
			return errSilent
		}
		return err
	}
	if err := cfg.Print(a.stdout); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "\nconfiguration OK")
	return nil
}
