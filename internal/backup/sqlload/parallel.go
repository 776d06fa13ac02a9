package sqlload

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"sync"
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
// and the statements go to Threads connections:
//
//   - every SET runs on the main connection and, before their next
//     statement, on each worker, so all sessions are alike;
//   - DROP/CREATE TABLE run on the main connection as they come;
//   - the INSERTs of an InnoDB table with a primary key go to whichever
//     worker is free: with foreign_key_checks=0 and the secondary indexes
//     built afterwards, rows of one table load from several connections
//     at once, and the clustered index keeps them in key order whatever
//     order they arrive in; tables without a primary key or not InnoDB
//     (whose row order would change, or which lock the whole table) are
//     loaded by one worker, in order;
//   - a table's ALTER TABLE … ADD KEY statements run, in order, on one
//     worker once all its INSERTs are done, while the next tables load;
//   - any other statement waits until everything before it is done, then
//     runs on the main connection: views, triggers, routines, events and
//     foreign keys are created after all data, in the dump's order.
//
// Memory stays bounded: the reader blocks while the workers have 2×Threads
// statements waiting (each at most the dump's statement size, 1 MiB by
// default), so a slow server slows the reader down instead of filling
// memory. Any other script (mysqldump's, which changes session settings
// between tables) is loaded sequentially on the main connection, as Load
// does, and Stats.Threads says 1.
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
}

// queued is a statement copied out of the scanner for a worker.
type queued struct {
	stmt Statement // Text is a private copy
	kind kind
	span int64 // input bytes the statement accounts for in Stats.Bytes
}

// job is one unit of work for a worker.
type job struct {
	table *tableLoad
	// one INSERT of a parallel table; or, with tail, the table's ALTER
	// statements, run after all its INSERTs.
	stmts []queued
	tail  bool
	// serial: every statement of a serial table, in order.
	serial chan queued
}

// tableLoad is a table being loaded.
type tableLoad struct {
	name    string
	inserts sync.WaitGroup // its INSERTs queued or running
}

// parallel is one ParallelOptions.Load in progress.
type parallel struct {
	o      ParallelOptions
	ctx    context.Context
	cancel context.CancelCauseFunc
	work   chan job
	queued sync.WaitGroup // jobs not finished yet

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
	p := &parallel{o: o, ctx: cctx, cancel: cancel, work: make(chan job, 2*o.Threads), progress: progress}
	p.st.Threads = o.Threads

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

	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.RewrittenDefiners = l.st.RewrittenDefiners
	if err := p.failed(); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return p.st, fmt.Errorf("load stopped after %d statements: %w", p.st.Statements, cerr)
		}
		return p.st, err
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

// add counts statements run or skipped, rows inserted, input bytes done
// and tables finished, and reports progress; table is the table the
// statement was about ("" if none).
func (p *parallel) add(table string, statements, skipped, rows, bytes, tables int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Table = table
	p.st.Statements += statements
	p.st.Skipped += skipped
	p.st.Rows += rows
	p.st.Bytes += bytes
	p.st.Tables += tables
	p.report()
}

// dispatch reads the script and hands its statements out; it returns when
// the script ends or the load fails.
func (p *parallel) dispatch(l *loader, main *sql.Conn) error {
	var cur *tableLoad
	var serial chan queued
	var tail []queued
	inTail := false
	var prevEnd int64
	// endTable queues what the current table still needs done.
	endTable := func() error {
		if cur == nil {
			return nil
		}
		t := cur
		cur = nil
		if serial != nil {
			close(serial)
			serial = nil
			return nil
		}
		return p.enqueue(job{table: t, stmts: tail, tail: true})
	}
	defer func() {
		if serial != nil { // the load failed: let its worker finish
			close(serial)
		}
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
			p.add("", 0, 1, 0, span, 0)
			continue
		}
		op, name := tableOpOf(text)
		inSection := cur != nil && name == cur.name
		switch {
		case op == opInsert && inSection && !inTail, op == opAddIndex && inSection:
			stmt.Text = bytes.Clone(text)
			q := queued{stmt: stmt, kind: k, span: span}
			switch {
			case serial != nil:
				if err := p.send(serial, q); err != nil {
					return err
				}
			case op == opAddIndex:
				inTail = true
				tail = append(tail, q)
			default:
				cur.inserts.Add(1)
				if err := p.enqueue(job{table: cur, stmts: []queued{q}}); err != nil {
					cur.inserts.Done()
					return err
				}
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
		p.add(name, 1, 0, 0, span, 0)
		if op == opCreateTable {
			cur, tail, inTail = &tableLoad{name: name}, nil, false
			if !parallelSafe(text) {
				serial = make(chan queued, 4)
				if err := p.enqueue(job{table: cur, serial: serial}); err != nil {
					return err
				}
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

// send hands a serial table's statement to its worker.
func (p *parallel) send(ch chan queued, q queued) error {
	select {
	case ch <- q:
		return nil
	case <-p.ctx.Done():
		return context.Cause(p.ctx)
	}
}

// worker runs jobs on its own connection until the work channel closes.
// Once the load has failed it still takes every job (and drains serial
// tables) without running anything, so that nobody waits for it.
func (p *parallel) worker() {
	var conn *sql.Conn
	applied := 0
	defer func() {
		if conn == nil {
			return
		}
		if p.o.Release != nil {
			p.o.Release(conn)
		} else {
			_ = conn.Close()
		}
	}()
	run := func(q queued) (int64, bool) {
		if p.failed() != nil {
			return 0, false
		}
		if conn == nil {
			c, err := p.o.Open(p.ctx)
			if err != nil {
				p.fail(fmt.Errorf("open a load connection: %w", err))
				return 0, false
			}
			conn = c
		}
		if err := p.catchUp(conn, &applied); err != nil {
			p.fail(err)
			return 0, false
		}
		n, err := execStatement(p.ctx, conn, q.stmt, q.stmt.Text, q.kind)
		if err != nil {
			p.fail(err) // the first error stays the cause
			return 0, false
		}
		return n, true
	}
	one := func(t *tableLoad, q queued) {
		if n, ok := run(q); ok {
			p.add(t.name, 1, 0, n, q.span, 0)
		}
	}
	for j := range p.work {
		switch {
		case j.serial != nil:
			for q := range j.serial {
				one(j.table, q)
			}
			p.add(j.table.name, 0, 0, 0, 0, 1)
		case j.tail:
			j.table.inserts.Wait()
			for _, q := range j.stmts {
				one(j.table, q)
			}
			p.add(j.table.name, 0, 0, 0, 0, 1)
		default:
			one(j.table, j.stmts[0])
			j.table.inserts.Done()
		}
		p.queued.Done()
	}
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

// parallelSafe reports whether the rows of the table a CREATE TABLE
// statement (as SHOW CREATE TABLE writes it) defines may be inserted from
// several connections at once and come out the same: an InnoDB table with
// a primary key, not system-versioned.
func parallelSafe(create []byte) bool {
	return bytes.Contains(create, []byte("\n  PRIMARY KEY (")) &&
		bytes.Contains(create, []byte(") ENGINE=InnoDB")) &&
		!bytes.Contains(create, []byte("WITH SYSTEM VERSIONING"))
}
