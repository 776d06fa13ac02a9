// Command cantina-ops is the one binary of cantina-ops: the web, worker and
// scheduler processes and the administrator's commands. main only dispatches
// to a subcommand and maps its error to an exit code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // SCHEDULE_TZ must resolve on machines without /usr/share/zoneinfo
)

// command is one subcommand. run gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

func commands() []command {
	return []command{
		{"web", "serve probes, the API and the console", runWeb},
		{"worker", "run queued tasks", runWorker},
		{"scheduler", "enqueue periodic tasks (one leader at a time)", runScheduler},
		{"all", "web, worker and scheduler in one process", runAll},
		{"health", "check the server once and print a report", runHealth},
		{"notify", "notify test: send a test email and report the SMTP outcome", runNotify},
		{"config", "config check: validate and print the effective config", runConfig},
		{"backup", "backup run|list|verify|restore|cleanup: make and manage backups", runBackup},
		{"cache", "cache invalidate|stats: delete stale entries of the POS cache; audit its keys and TTLs", runCache},
		{"user", "user hash: hash a console password for CONSOLE_USERS", runUser},
		{"demo", "demo seed: create and fill the demo POS database", runDemo},
		{"version", "print the version, commit and Go version", runVersion},
	}
}

// version and commit are set at build time with
// -ldflags "-X main.version=… -X main.commit=…" (see scripts/dist.sh).
var (
	version = "dev"
	commit  = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	err := dispatch(ctx, a, os.Args[1:])
	os.Exit(exitCode(a.stderr, err))
}

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

// errSilent is returned by commands that already printed their verdict and
// only need a non-zero exit status.
var errSilent = errors.New("failed")

func dispatch(ctx context.Context, a *app, args []string) error {
	defer a.close()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(a.stdout)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, a, args[1:])
		}
	}
	usage(a.stderr)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: cantina-ops COMMAND [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'cantina-ops COMMAND --help' for a command's flags.")
	fmt.Fprintln(w, "Configuration comes from the environment and ./.env; see README.md.")
}

func exitCode(stderr io.Writer, err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errSilent):
		return 1
	case errors.Is(err, errUsage):
		if err != errUsage {
			fmt.Fprintln(stderr, "cantina-ops:", err)
		}
		return 2
	default:
		fmt.Fprintln(stderr, "cantina-ops:", err)
		return 1
	}
}

// runGroup runs the subcommand of a command group (backup, cache) that
// args name, or prints the group's usage: to stdout for --help, else to
// stderr with a usage error.
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

// newFlags returns a FlagSet for a subcommand that reports errors as usage errors.
func newFlags(a *app, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "Usage: cantina-ops %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and rejects positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}
