package main

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/notify"
)

const notifyTestUsage = "[--to ADDRESS,...] [--verbose]"

// runNotify implements `notify test`: send the test email synchronously,
// not through the queue, to every recipient, and print what the SMTP server
// answered. It is how an administrator checks the EMAIL_* settings; exit
// status 1 when any recipient failed.
func runNotify(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintln(a.stderr, "Usage: cantina-ops notify test", notifyTestUsage)
		switch {
		case len(args) == 0:
			return errUsage
		case args[0] == "-h" || args[0] == "--help":
			return nil
		}
		return fmt.Errorf("%w: unknown notify command %q", errUsage, args[0])
	}
	fs := newFlags(a, "notify test", notifyTestUsage)
	toFlag := fs.String("to", "", "send to these addresses (comma-separated) instead of NOTIFY_EMAILS")
	verbose := fs.Bool("verbose", false, "print the SMTP conversation (authentication data redacted)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, _, err := a.load()
	if err != nil {
		return err
	}
	recipients := cfg.Email.To
	if *toFlag != "" {
		if recipients, err = parseRecipients(*toFlag); err != nil {
			return fmt.Errorf("%w: notify test --to: %v", errUsage, err)
		}
	}
	switch {
	case cfg.Email.Host == "":
		return errors.New("EMAIL_HOST is not set: there is no mail server to test (set EMAIL_HOST, EMAIL_PORT, EMAIL_FROM and NOTIFY_EMAILS)")
	case len(recipients) == 0:
		return errors.New("NOTIFY_EMAILS is not set: nobody to send the test to (set it, or pass --to)")
	case cfg.Email.From == "":
		return errors.New("EMAIL_FROM is not set: set the sender address (or an EMAIL_HOST_USER that is an address)")
	}

	renderer := notify.NewRenderer(cfg)
	smtp := notify.NewSMTP(cfg.Email)
	if *verbose {
		smtp.Transcript = a.stdout
	}
	host, _ := os.Hostname()
	fmt.Fprintf(a.stdout, "SMTP server: %s\n", smtp.Plan())
	failed := 0
	for _, to := range recipients {
		msg, err := renderer.Render(notify.KindTest, "", to, notify.Data{Database: cfg.DB.Name, Time: time.Now().UTC(), Host: host}, "")
		if err != nil {
			return err
		}
		reply, err := smtp.Send(ctx, msg)
		if err != nil {
			failed++
			verdict := "temporary failure: the worker would retry it"
			if errors.Is(err, notify.ErrPermanent) {
				verdict = "permanent failure"
			}
			fmt.Fprintf(a.stdout, "FAILED %s (%s):\n  %v\n", to, verdict, err)
			continue
		}
		fmt.Fprintf(a.stdout, "sent   %s: the server accepted it (250 %s)\n", to, reply)
	}
	if failed > 0 {
		fmt.Fprintf(a.stdout, "%d of %d test emails failed\n", failed, len(recipients))
		return errSilent
	}
	fmt.Fprintf(a.stdout, "test email sent to %d recipient(s): check their inboxes (and spam folders)\n", len(recipients))
	return nil
}

func parseRecipients(s string) ([]string, error) {
	var out []string
	for _, addr := range strings.Split(s, ",") {
		addr = strings.TrimSpace(addr)
		if addr == "" {
			continue
		}
		if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
			return nil, fmt.Errorf("%q is not a plain email address", addr)
		}
		out = append(out, addr)
	}
	if len(out) == 0 {
		return nil, errors.New("no address given")
	}
	return out, nil
}
