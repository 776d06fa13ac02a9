package main

import (
	"context"
	"fmt"
)

// cacheUsage is each `cache` subcommand's arguments.
var cacheUsage = map[string]string{
	"stats": "[--json]",
}

// cacheCommands are the `cache` subcommands, in usage order.
func cacheCommands() []command {
	return []command{
		{"stats", cacheUsage["stats"], runCacheStats},
	}
}

func runCache(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		for _, c := range cacheCommands() {
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
	for _, c := range cacheCommands() {
		fmt.Fprintf(w, "  cantina-ops cache %s %s\n", c.name, c.summary)
	}
	switch {
	case len(args) == 0:
		return errUsage
	case w == a.stdout:
		return nil
	}
	return fmt.Errorf("%w: unknown cache command %q", errUsage, args[0])
}
