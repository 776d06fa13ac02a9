package native

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// writer runs one kind of transaction in a loop until stopped, counting
// commits and signalling each one.
type writer struct {
	commits atomic.Int64
	signal  chan struct{}
	err     error
}

func (w *writer) run(ctx context.Context, db *sql.DB, tx func(context.Context, *sql.Tx, *rand.Rand) error, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, seed))
	for ctx.Err() == nil {
		t, err := db.BeginTx(ctx, nil)
		if err == nil {
			if err = tx(ctx, t, rnd); err == nil {
				err = t.Commit()
			} else {
				_ = t.Rollback()
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				w.err = err
			}
			return
		}
		w.commits.Add(1)
		select {
		case w.signal <- struct{}{}:
		default:
		}
	}
}

// await blocks until the writer has committed n more transactions. The
// deadline only guards against a hang (a blocked writer would be a bug).
func (w *writer) await(tb testing.TB, n int64) {
	target := w.commits.Load() + n
	guard := time.After(2 * time.Minute)
	for w.commits.Load() < target {
		select {
		case <-w.signal:
		case <-guard:
			tb.Errorf("writer made no progress during the dump (blocked?); last error %v", w.err)
			return
		}
	}
}

// TestDumpIsOneConsistentSnapshot dumps while one writer moves money
// between accounts (the sum never changes) and another records sales, each
// in the same transaction as the register's running totals. The dump waits
// for both writers to commit more at the start of every table and every
// 500 rows, so every table is read after writes its snapshot must not see.
func TestDumpIsOneConsistentSnapshot(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	const accounts, initial = 3000, 1000
	mustExec(t, db,
		"CREATE TABLE `accounts` (`id` INT NOT NULL PRIMARY KEY, `balance` BIGINT NOT NULL, `owner` VARCHAR(100) NOT NULL)",
		"CREATE TABLE `register` (`id` INT NOT NULL PRIMARY KEY, `sales` BIGINT NOT NULL, `total` BIGINT NOT NULL)",
		"CREATE TABLE `sales` (`id` INT NOT NULL AUTO_INCREMENT PRIMARY KEY, `account_id` INT NOT NULL, "+
			"`amount` BIGINT NOT NULL, `at` DATETIME(6) NOT NULL)",
		"INSERT INTO `register` VALUES (1, 0, 0)",
	)
	var sb strings.Builder
	for i := 1; i <= accounts; i++ {
		if i > 1 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "(%d, %d, 'student %d')", i, initial, i)
	}
	mustExec(t, db, "INSERT INTO `accounts` VALUES "+sb.String())

	move := func(ctx context.Context, tx *sql.Tx, rnd *rand.Rand) error {
		from, to, amount := 1+rnd.IntN(accounts), 1+rnd.IntN(accounts), 1+rnd.IntN(50)
		if _, err := tx.ExecContext(ctx, "UPDATE `accounts` SET `balance` = `balance` - ? WHERE `id` = ?", amount, from); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE `accounts` SET `balance` = `balance` + ? WHERE `id` = ?", amount, to)
		return err
	}
	sell := func(ctx context.Context, tx *sql.Tx, rnd *rand.Rand) error {
		amount := 1 + rnd.IntN(900)
		if _, err := tx.ExecContext(ctx, "INSERT INTO `sales` (`account_id`, `amount`, `at`) VALUES (?, ?, NOW(6))",
			1+rnd.IntN(accounts), amount); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE `register` SET `sales` = `sales` + 1, `total` = `total` + ? WHERE `id` = 1", amount)
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	mover, seller := &writer{signal: make(chan struct{}, 1)}, &writer{signal: make(chan struct{}, 1)}
	wg.Go(func() { mover.run(ctx, db, move, 1) })
	wg.Go(func() { seller.run(ctx, db, sell, 2) })
	stopWriters := func() {
		stop()
		wg.Wait()
	}
	t.Cleanup(stopWriters)
	mover.await(t, 5)
	seller.await(t, 5)

	var out bytes.Buffer
	waits := 0
	_, err := New(srv.Config(name), Options{ProgressRows: 500}).Dump(context.Background(), &out, func(p backup.Progress) {
		if p.Table == "" {
			return // finished
		}
		waits++
		mover.await(t, 10)
		seller.await(t, 10)
	})
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	stopWriters()
	if mover.err != nil || seller.err != nil {
		t.Fatalf("writers failed: %v, %v", mover.err, seller.err)
	}
	if waits < 8 {
		t.Fatalf("the dump only let the writers in %d times", waits)
	}

	_, dst := testenv.MySQLDatabase(t)
	loadWithClient(t, srv, dst, out.Bytes())
	restored := srv.Open(t, dst)

	if sum := queryInt(t, restored, "SELECT SUM(`balance`) FROM `accounts`"); sum != accounts*initial {
		t.Errorf("restored accounts sum to %d, want %d", sum, accounts*initial)
	}
	n := queryInt(t, restored, "SELECT COUNT(*) FROM `sales`")
	if lo, hi := queryInt(t, restored, "SELECT COALESCE(MIN(`id`), 1) FROM `sales`"), queryInt(t, restored, "SELECT COALESCE(MAX(`id`), 0) FROM `sales`"); lo != 1 || hi != n {
		t.Errorf("restored sales ids run %d..%d over %d rows: not a prefix 1..N", lo, hi, n)
	}
	reg := queryStrings(t, restored, "SELECT `sales`, `total` FROM `register`")[0]
	total := queryStrings(t, restored, "SELECT COALESCE(SUM(`amount`), 0) FROM `sales`")[0][0]
	if reg[0] != fmt.Sprint(n) || reg[1] != total {
		t.Errorf("register says %s sales for %s, the restored sales table has %d for %s: tables from different moments",
			reg[0], reg[1], n, total)
	}
	// The snapshot is a moment: every sale after it is missing, and all
	// of them came later than every sale it holds.
	if all := queryInt(t, db, "SELECT COUNT(*) FROM `sales`"); all <= n {
		t.Errorf("the dump holds %d sales of %d: it saw writes made after its snapshot", n, all)
	}
	if n > 0 {
		last := queryStrings(t, restored, "SELECT MAX(`at`) FROM `sales`")[0][0]
		later := queryStrings(t, db, fmt.Sprintf("SELECT MIN(`at`) FROM `sales` WHERE `id` > %d", n))[0][0]
		if later < last {
			t.Errorf("a sale missing from the dump (%s) is older than one in it (%s)", later, last)
		}
	}
}

func TestDumpStopsWhenCancelled(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	mustExec(t, db, "CREATE TABLE `t` (`id` INT NOT NULL PRIMARY KEY, `s` VARCHAR(50))",
		"INSERT INTO `t` SELECT `seq`, REPEAT('x', 40) FROM seq_1_to_20000")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	var lastRows int64
	_, err := New(srv.Config(name), Options{ProgressRows: 100}).Dump(ctx, &out, func(p backup.Progress) {
		lastRows = p.Rows
		if p.Rows >= 100 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "dump table t") {
		t.Errorf("err %q does not name the table", err)
	}
	if lastRows > 200 {
		t.Errorf("the dump went on to %d rows after the cancel at 100", lastRows)
	}
	if bytes.Contains(out.Bytes(), []byte(backup.TrailerPrefix)) {
		t.Errorf("a cancelled dump has the completion trailer")
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errors.New("disk full")
	}
	w.after--
	return len(p), nil
}

func TestDumpFailsOnWriteError(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	mustExec(t, db, "CREATE TABLE `t` (`id` INT NOT NULL PRIMARY KEY, `s` VARCHAR(200))",
		"INSERT INTO `t` SELECT `seq`, REPEAT('x', 150) FROM seq_1_to_30000")
	_, err := New(srv.Config(name), Options{}).Dump(context.Background(), &failingWriter{after: 1}, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "dump table t") {
		t.Fatalf("err = %v, want the write error, naming the table", err)
	}
	if strings.Contains(err.Error(), srv.Password) {
		t.Errorf("error %q shows the password", err)
	}
}

func TestDumpConnectErrorHidesPassword(t *testing.T) {
	srv := testenv.MySQL(t)
	cfg := srv.Config("db")
	cfg.Passwd = "wrong-secret-pw"
	_, err := New(cfg, Options{}).Dump(context.Background(), &bytes.Buffer{}, nil)
	if err == nil {
		t.Fatal("dump with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), "wrong-secret-pw") {
		t.Errorf("error %q shows the password", err)
	}
}

// DDL on a table the dump has finished with must not wait for the dump;
// DDL that rebuilds a table it has yet to read breaks the snapshot, and
// the dump says so.
func TestDumpReportsSchemaChange(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	mustExec(t, db,
		"CREATE TABLE `a` (`id` INT NOT NULL PRIMARY KEY)", "INSERT INTO `a` VALUES (1), (2)",
		"CREATE TABLE `b` (`id` INT NOT NULL PRIMARY KEY)", "INSERT INTO `b` VALUES (1)",
		"CREATE TABLE `c` (`id` INT NOT NULL PRIMARY KEY)", "INSERT INTO `c` VALUES (1)",
	)
	ddl := conn(t, db)
	// A hang guard, not a timing assertion: blocked DDL fails instead of
	// waiting for the dump.
	mustExec(t, ddl, "SET SESSION lock_wait_timeout = 20")
	var out bytes.Buffer
	_, err := New(srv.Config(name), Options{}).Dump(context.Background(), &out, func(p backup.Progress) {
		if p.Table == "b" {
			mustExec(t, ddl, "ALTER TABLE `a` ADD COLUMN `x` INT, ALGORITHM=COPY", "ALTER TABLE `c` FORCE")
		}
	})
	if !errors.Is(err, ErrSchemaChanged) || !strings.Contains(err.Error(), "dump table c") {
		t.Fatalf("err = %v, want ErrSchemaChanged for table c", err)
	}
}

// A view whose table is gone would stop the load halfway: the dump
// refuses it and says what to do.
func TestDumpRefusesBrokenView(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	mustExec(t, db, "CREATE TABLE `gone` (`a` INT)", "CREATE VIEW `v_gone` AS SELECT `a` FROM `gone`", "DROP TABLE `gone`")
	_, err := New(srv.Config(name), Options{}).Dump(context.Background(), &bytes.Buffer{}, nil)
	if err == nil || !strings.Contains(err.Error(), "dump view v_gone") || !strings.Contains(err.Error(), "fix the view or drop it") {
		t.Fatalf("err = %v, want a refusal naming the view", err)
	}
}
