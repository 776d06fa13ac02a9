package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/cantina-pos/cantina-ops/internal/password"
)

// runUser implements the `user` group: `user hash`.
func runUser(ctx context.Context, a *app, args []string) error {
	return runGroup(ctx, a, "user", []command{
		{"hash", "read a password on stdin (no echo on a terminal) and print its hash for CONSOLE_USERS", runUserHash},
	}, args)
}

// runUserHash reads one password from stdin, without echo when stdin is a
// terminal (asked twice there), and prints its argon2id hash: the third
// part of a CONSOLE_USERS entry. The password is never printed.
func runUserHash(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "user hash", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	pw, err := readPassword(a)
	if err != nil {
		return err
	}
	h, err := password.New(pw)
	if err != nil {
		return fmt.Errorf("hash the password: %w", err)
	}
	fmt.Fprintln(a.stdout, h)
	if isTerminal(a.stdout) {
		fmt.Fprintln(a.stderr, "Add it as name:role:HASH to CONSOLE_USERS (roles: viewer, operator);")
		fmt.Fprintln(a.stderr, "in .env, single-quote the whole value: '$' starts a variable there.")
	}
	return nil
}

// minConsolePassword is the shortest console password user hash accepts.
const minConsolePassword = 8

// readPassword reads the password: from a terminal without echo, twice;
// from a pipe or file, its first line.
func readPassword(a *app) (string, error) {
	var pw string
	if f, ok := a.stdin.(*os.File); ok && isTerminal(f) {
		first, err := promptNoEcho(a.stderr, f, "Password: ")
		if err != nil {
			return "", err
		}
		again, err := promptNoEcho(a.stderr, f, "Again: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", errors.New("the two passwords differ; run `cantina-ops user hash` again")
		}
		pw = first
	} else {
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read the password from stdin: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if len([]rune(pw)) < minConsolePassword {
		return "", fmt.Errorf("%w: the password must be at least %d characters (give it on stdin, e.g. a passphrase of four words)", errUsage, minConsolePassword)
	}
	return pw, nil
}

func promptNoEcho(w io.Writer, f *os.File, prompt string) (string, error) {
	fmt.Fprint(w, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(w)
	if err != nil {
		return "", fmt.Errorf("read the password from the terminal: %w", err)
	}
	return string(b), nil
}
