package sqlload

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
)

// NativeHeader starts every dump of cantina-ops' native engine: a script
// whose tables a parallel load may split (see ParallelOptions).
const NativeHeader = "-- cantina-ops native dump ("

// ParallelOptions adjust a parallel load (ParallelOptions.Load).
//
// A dump of the native engine is a preamble of SET statements, then one
// section per table (CREATE TABLE with its primary key, INSERTs, ALTER
// TABLE … ADD KEY), then the rest (sequences, foreign keys, triggers,
// routines, events, views). One reader decompresses and splits it once,
// and the tables go to Threads connections:
//
//   - every SET runs on the main connection and, before their next
//     statement, on each worker, so all sessions are alike;
//   - DROP/CREATE TABLE run on the main connection as they come;
//   - each table's INSERTs and then its ALTER TABLE … ADD KEY statements
//     run in dump order on one worker, while the other workers load the
//     next tables: with foreign_key_checks=0 and the secondary indexes
//     built after the rows, tables are independent. The reader does not
//     wait for a busy worker: what does not fit in memory waits in a
//     temporary file (see tableStream), so every worker has a table to
//     load as long as one is left;
//   - the INSERTs of a table whose columns allow it are sent as LOAD DATA
//     LOCAL INFILE (see loaddata.go), which costs the server less;
//   - any other statement waits until everything before it is done, then
//     runs on the main connection: views, triggers, routines, events and
//     foreign keys are created after all data, in the dump's order.
//
// Memory stays bounded: statements waiting for a worker take at most
// MemoryBudget, and the rest of their table goes to a temporary file
// (compressed with S2: at most about a third of the SQL's size; removed
// when the load ends). Any other script (mysqldump's, which changes
// session settings between tables) is loaded sequentially on the main
// connection, as Load does, and Stats.Threads says 1.
type ParallelOptions struct {
	LoadOptions
	// Threads is the number of worker connections; below 2 the load is
	// sequential.
	Threads int
	// Open returns a new connection to the target database, set up like
	// the main one (session settings). The load discards it with Release
	// when done.
	Open func(ctx context.Context) (*sql.Conn, error)
	// Release gives back a connection from Open; nil closes it.
	Release func(*sql.Conn)
	// MemoryBudget bounds the statements waiting in memory; default 8 MiB
	// per thread.
	MemoryBudget int64
	// TempDir holds the read-ahead files; default os.TempDir().
	TempDir string
}

// queued is a statement on its way to a worker.
type queued struct {
	stmt Statement // Text is a private copy
	kind kind
	span int64 // input bytes the statement accounts for in Stats.Bytes
}

// job is one table for a worker: its INSERTs and ALTERs, in order.
type job struct{ table *tableLoad }

// tableLoad is a table being loaded.
type tableLoad struct {
	name   string
	stream *tableStream
	// loadData: its INSERTs may become LOAD DATA if its columns allow
	// (the server allows LOAD DATA LOCAL, the session has backslash
	// escapes).
	loadData bool
}

// parallel is one ParallelOptions.Load in progress.
type parallel struct {
	o      ParallelOptions
	ctx    context.Context
	cancel context.CancelCauseFunc
	work   chan job
	queued sync.WaitGroup // jobs not finished yet
	budget memBudget
	file   spillFile
	infile bool // the server allows LOAD DATA LOCAL INFILE
	// infileRefused: it refused one all the same (see loadData).
	infileRefused atomic.Bool

	mu       sync.Mutex // guards what follows
	st       Stats
	progress func(Stats)
	session  [][]byte // SET statements every worker runs, in order
}

// Load loads the SQL script read from r into conn's database like
// LoadOptions.Load, splitting a native dump's tables across o.Threads more
// connections (see ParallelOptions). progress may be called from several
// goroutines, but never twice at once. When a statement fails, or ctx is
// cancelled, the statements in flight are abandoned (their connections
// closed) and the first error is returned.
func (o ParallelOptions) Load(ctx context.Context, conn *sql.Conn, r io.Reader, progress func(Stats)) (Stats, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(len(NativeHeader))
	if o.Threads < 2 || o.Open == nil || string(head) != NativeHeader {
		return o.LoadOptions.Load(ctx, conn, br, progress)
	}
	l, err := o.start(ctx, conn, br)
	if err != nil {
		return l.st, err
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p := &parallel{o: o, ctx: cctx, cancel: cancel, work: make(chan job, 1024), progress: progress}
	p.budget.limit = o.MemoryBudget
	if p.budget.limit <= 0 {
		p.budget.limit = int64(o.Threads) * 8 << 20
	}
	p.file.dir = o.TempDir
	p.st.Threads = o.Threads
	// A server that cannot say is tried: a refusal falls back to INSERTs.
	var infile sql.NullInt64
	err = conn.QueryRowContext(ctx, "SELECT @@GLOBAL.local_infile").Scan(&infile)
	p.infile = err != nil || infile.Int64 == 1
	p.st.LocalInfileOff = !p.infile

	var workers sync.WaitGroup
	for range o.Threads {
		workers.Add(1)
		go func() {
			defer workers.Done()
			p.worker()
		}()
	}
	if err := p.dispatch(l, conn); err != nil {
		p.fail(err)
	}
	close(p.work)
	workers.Wait()
	spilled := p.file.off
	rmErr := p.file.remove()

	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.RewrittenDefiners = l.st.RewrittenDefiners
	p.st.SpillBytes = spilled
	p.st.LocalInfileOff = p.st.LocalInfileOff || p.infileRefused.Load()
	if err := p.failed(); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return p.st, fmt.Errorf("load stopped after %d statements: %w", p.st.Statements, cerr)
		}
		return p.st, err
	}
	if rmErr != nil {
		return p.st, fmt.Errorf("remove the read-ahead files: %w", rmErr)
	}
	if end := l.sc.Offset(); end != p.st.Bytes { // comments after the last statement
		p.st.Bytes = end
		p.report()
	}
	return p.st, nil
}

// fail records the load's first error and stops it.
func (p *parallel) fail(err error) { p.cancel(err) }

// failed returns the error that stopped the load, if any.
func (p *parallel) failed() error {
	if p.ctx.Err() == nil {
		return nil
	}
	return context.Cause(p.ctx)
}

// report calls progress with the stats; p.mu is held.
func (p *parallel) report() {
	if p.progress != nil {
		p.progress(p.st)
	}
}

// add counts statements run or skipped, rows inserted (fast of them with
// LOAD DATA), input bytes done and tables finished, and reports progress;
// table is the table the statement was about ("" if none).
func (p *parallel) add(table string, statements, skipped, rows, fast, bytes, tables int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Table = table
	p.st.Statements += statements
	p.st.Skipped += skipped
	p.st.Rows += rows
	p.st.LoadDataRows += fast
	p.st.Bytes += bytes
	p.st.Tables += tables
	p.report()
}

// dispatch reads the script and hands its statements out; it returns when
// the script ends or the load fails.
func (p *parallel) dispatch(l *loader, main *sql.Conn) (err error) {
	var cur *tableLoad
	inTail := false
	var prevEnd int64
	// endTable closes the stream of the table being read.
	endTable := func() error {
		if cur == nil {
			return nil
		}
		t := cur
		cur = nil
		return t.stream.close(&p.file)
	}
	defer func() {
		if err != nil {
			p.fail(err) // before the table's worker sees its stream end
		}
		_ = endTable() // the load failed: let its worker finish
	}()

	for l.sc.Scan() {
		if err := p.failed(); err != nil {
			return err
		}
		stmt := l.sc.Statement()
		span := stmt.End - prevEnd
		prevEnd = stmt.End
		text, k, err := l.prepare(stmt)
		if err != nil {
			return err
		}
		if text == nil {
			p.add("", 0, 1, 0, 0, span, 0)
			continue
		}
		op, name := tableOpOf(text)
		inSection := cur != nil && name == cur.name
		if op == opInsert && inSection && !inTail || op == opAddIndex && inSection {
			inTail = inTail || op == opAddIndex
			stmt.Text = text
			if err := cur.stream.push(queued{stmt: stmt, kind: k, span: span}, &p.budget, &p.file); err != nil {
				return err
			}
			continue
		}
		// Anything else ends the table being loaded.
		if err := endTable(); err != nil {
			return err
		}
		// A CREATE TABLE that keeps its foreign keys (a table the dump
		// could not split) may reference a key of an earlier table that a
		// worker is still adding: MariaDB refuses the constraint (errno
		// 150) if the referenced index does not exist yet, even with
		// foreign_key_checks=0. It waits for everything before it too.
		if op != opCreateTable && op != opDropTable || op == opCreateTable && bytes.Contains(text, []byte("FOREIGN KEY")) {
			// Views, triggers, routines, foreign keys, session
			// settings…: after everything before them.
			p.queued.Wait()
			if err := p.failed(); err != nil {
				return err
			}
		}
		if _, err := execStatement(p.ctx, main, stmt, text, k); err != nil {
			if cerr := p.failed(); cerr != nil {
				return cerr
			}
			return err
		}
		if k == kindSet {
			p.mu.Lock()
			p.session = append(p.session, bytes.Clone(text))
			p.mu.Unlock()
		}
		if err := l.afterSet(p.ctx, main, k, text, stmt); err != nil {
			return err
		}
		p.add(name, 1, 0, 0, 0, span, 0)
		if op == opCreateTable {
			cur = &tableLoad{name: name, stream: &tableStream{mem: make(chan queued, 64)},
				loadData: p.infile && !strings.Contains(l.mode, "NO_BACKSLASH_ESCAPES")}
			inTail = false
			if err := p.enqueue(job{table: cur}); err != nil {
				return err
			}
		}
	}
	if err := l.sc.Err(); err != nil {
		return fmt.Errorf("read SQL: %w", err)
	}
	if err := endTable(); err != nil {
		return err
	}
	p.queued.Wait()
	return p.failed()
}

// enqueue hands a job to the workers, waiting for room.
func (p *parallel) enqueue(j job) error {
	p.queued.Add(1)
	select {
	case p.work <- j:
		return nil
	case <-p.ctx.Done():
		p.queued.Done()
		return context.Cause(p.ctx)
	}
}

// worker loads tables on its own connection until the work channel
// closes. Once the load has failed it still takes every job (and drains
// its statements) without running anything, so that nobody waits for it.
func (p *parallel) worker() {
	w := &worker{p: p}
	defer func() {
		if w.conn == nil {
			return
		}
		if p.o.Release != nil {
			p.o.Release(w.conn)
		} else {
			_ = w.conn.Close()
		}
	}()
	for j := range p.work {
		w.table(j.table)
		p.queued.Done()
	}
}

// worker is one load connection and what it knows.
type worker struct {
	p       *parallel
	conn    *sql.Conn
	applied int    // SET statements of p.session run on conn
	buf     []byte // LOAD DATA rows
}

// table loads t's statements: those in memory, then those read ahead to
// its file.
func (w *worker) table(t *tableLoad) {
	p := w.p
	eligible := -1 // unknown
	for q := range t.stream.mem {
		p.budget.give(int64(len(q.stmt.Text)))
		w.run(t, q, &eligible)
	}
	r, err := t.stream.segment(&p.file)
	if err != nil {
		p.fail(err) // the reader's error: the same cause whoever is first
	}
	if r != nil && p.failed() == nil {
		for p.failed() == nil {
			q, ok, err := r.next()
			if err != nil {
				p.fail(err)
			}
			if !ok {
				break
			}
			w.run(t, q, &eligible)
		}
	}
	if p.failed() == nil {
		p.add(t.name, 0, 0, 0, 0, 0, 1)
	}
}

// run runs one statement of t; eligible caches whether t's INSERTs may go
// as LOAD DATA (-1: not asked yet).
func (w *worker) run(t *tableLoad, q queued, eligible *int) {
	p := w.p
	if p.failed() != nil {
		return
	}
	if w.conn == nil {
		c, err := p.o.Open(p.ctx)
		if err != nil {
			p.fail(fmt.Errorf("open a load connection: %w", err))
			return
		}
		w.conn = c
	}
	if err := p.catchUp(w.conn, &w.applied); err != nil {
		p.fail(err)
		return
	}
	if q.kind == kindInsert && t.loadData {
		if *eligible < 0 {
			ok, err := loadDataEligible(p.ctx, w.conn, t.name)
			if err != nil {
				p.fail(err)
				return
			}
			*eligible = 0
			if ok {
				*eligible = 1
			}
		}
		if *eligible == 1 && !p.infileRefused.Load() {
			n, done, err := loadData(p.ctx, w.conn, q.stmt, &w.buf)
			if errors.Is(err, errLocalInfileRefused) {
				// Every row from now on goes as an INSERT.
				p.infileRefused.Store(true)
				err = nil
			}
			if err != nil {
				p.fail(err)
				return
			}
			if done {
				p.add(t.name, 1, 0, n, n, q.span, 0)
				return
			}
		}
	}
	n, err := execStatement(p.ctx, w.conn, q.stmt, q.stmt.Text, q.kind)
	if err != nil {
		p.fail(err) // the first error stays the cause
		return
	}
	p.add(t.name, 1, 0, n, 0, q.span, 0)
}

// catchUp runs on conn the SET statements it has not run yet.
func (p *parallel) catchUp(conn *sql.Conn, applied *int) error {
	p.mu.Lock()
	todo := p.session[*applied:]
	p.mu.Unlock()
	for _, s := range todo {
		if _, err := conn.ExecContext(p.ctx, string(s)); err != nil {
			return fmt.Errorf("set up a load connection like the main one (%s): %w", head(s), err)
		}
		*applied++
	}
	return nil
}
