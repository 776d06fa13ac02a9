package main

import "context"

// cacheUsage is each `cache` subcommand's arguments.
var cacheUsage = map[string]string{
	"invalidate": "[--key K]… [--pattern P]… [--tag T]… [--raw] [--wait] [--json]",
	"stats":      "[--json]",
}

// cacheCommands are the `cache` subcommands, in usage order.
func cacheCommands() []command {
	return []command{
		{"invalidate", cacheUsage["invalidate"], runCacheInvalidate},
		{"stats", cacheUsage["stats"], runCacheStats},
	}
}

func runCache(ctx context.Context, a *app, args []string) error {
	return runGroup(ctx, a, "cache", cacheCommands(), args)
}
