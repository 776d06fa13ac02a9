package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/cantina-pos/cantina-ops/internal/backup"
)

// backupUsage is each `backup` subcommand's arguments.
var backupUsage = map[string]string{
	"run":     "[--notify] [--enqueue]",
	"list":    "[--storage NAME] [--json]",
	"verify":  "[NAME | --latest] [--storage NAME] [--restore-test] [--json]",
	"restore": "NAME [--storage NAME] [--database DB] [--yes]",
	"cleanup": "[--storage NAME] [--dry-run] [--json]",
}

// backupCommands are the `backup` subcommands, in usage order.
func backupCommands() []command {
	return []command{
		{"run", backupUsage["run"], runBackupRun},
		{"list", backupUsage["list"], runBackupList},
		{"verify", backupUsage["verify"], runBackupVerify},
		{"restore", backupUsage["restore"], runBackupRestore},
		{"cleanup", backupUsage["cleanup"], runBackupCleanup},
	}
}

func runBackup(ctx context.Context, a *app, args []string) error {
	return runGroup(ctx, a, "backup", backupCommands(), args)
}

// runGroup runs the subcommand of a command group (`backup`, `cache`)
// that args name, or prints the group's usage.
func runGroup(ctx context.Context, a *app, group string, cmds []command, args []string) error {
	if len(args) > 0 {
		for _, c := range cmds {
			if c.name == args[0] {
				return c.run(ctx, a, args[1:])
			}
		}
	}
	w := a.stderr
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		w = a.stdout
	}
	fmt.Fprintln(w, "Usage:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  cantina-ops %s %s %s\n", group, c.name, c.summary)
	}
	switch {
	case len(args) == 0:
		return errUsage
	case w == a.stdout:
		return nil
	}
	return fmt.Errorf("%w: unknown %s command %q", errUsage, group, args[0])
}

// backupFlags returns the FlagSet of a backup subcommand.
func backupFlags(a *app, name string) *flag.FlagSet {
	return newFlags(a, "backup "+name, backupUsage[name])
}

// storageFlag adds --storage, the destination (a BACKUP_STORAGE name) a
// command works on.
func storageFlag(fs *flag.FlagSet, what string) *string {
	return fs.String("storage", "", what+" (a destination name from BACKUP_STORAGE: file, s3, …)")
}

// onStorage narrows m to the destination --storage names; "" keeps m.
func onStorage(m *backup.Manager, name string) (*backup.Manager, error) {
	if name == "" {
		return m, nil
	}
	on, err := m.On(name)
	if err != nil {
		return nil, fmt.Errorf("%w: --storage: %v", errUsage, err)
	}
	return on, nil
}

// parseWithArgs parses flags that may come before or after positional
// arguments (`backup verify NAME --restore-test`) and returns the positional
// ones; at most maxArgs are allowed.
func parseWithArgs(fs *flag.FlagSet, args []string, maxArgs int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > maxArgs {
		fs.Usage()
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, pos[maxArgs])
	}
	return pos, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// openBackups opens the connections and the backup manager; close d when
// done.
func openBackups(a *app) (*deps, *backup.Manager, error) {
	d, err := openDeps(a)
	if err != nil {
		return nil, nil, err
	}
	m, err := d.backups()
	if err != nil {
		d.close()
		return nil, nil, err
	}
	return d, m, nil
}
