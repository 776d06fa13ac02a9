package native

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
)

// digest is a table's content checksum over the exact tuples the dump
// writes. With an order key, rows come in key order and are hashed in
// sequence; without one, the order is the server's whim, so each row is
// hashed alone and the hashes are added (a multiset hash), which does not
// depend on the order.
type digest struct {
	ordered bool
	seq     hash.Hash // ordered: sha256 of header and every tuple
	sum     [4]uint64 // unordered: lane-wise sum of each tuple's sha256
	rows    int64
	header  []byte
}

func newDigest(m *tableMeta) *digest {
	// The header binds the digest to the columns: a renamed or added
	// column gives another digest even over the same values.
	h := []byte("cantina-native-digest-v1\n")
	for _, c := range m.cols {
		h = appendIdent(h, c.name)
	}
	d := &digest{ordered: len(m.order) > 0, header: h}
	if d.ordered {
		d.seq = sha256.New()
		d.seq.Write(h)
	}
	return d
}

func (d *digest) row(tuple []byte) {
	d.rows++
	if d.ordered {
		d.seq.Write(tuple)
		return
	}
	s := sha256.Sum256(tuple)
	for i := range d.sum {
		d.sum[i] += binary.LittleEndian.Uint64(s[i*8:])
	}
}

// hex returns the checksum: 64 hex digits.
func (d *digest) hex() string {
	if d.ordered {
		return hex.EncodeToString(d.seq.Sum(nil))
	}
	h := sha256.New()
	h.Write(d.header)
	var b [8]byte
	for _, v := range d.sum {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	binary.LittleEndian.PutUint64(b[:], uint64(d.rows))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil))
}

// TableDigest returns the row count and content checksum of one base table
// of the database q is connected to, computed exactly as Dump computes the
// checksums in DumpInfo: a restored copy of a dump gives the same values as
// the dump's snapshot did. It reads the table with the session's time_zone
// at +00:00, an empty sql_mode and utf8mb4 results, and puts the session's
// settings back afterwards; given a *sql.DB it uses a connection of its own.
// The connection must not use parseTime (temporal values are digested as
// the server prints them). Run it in a transaction, or on a quiet database,
// for a stable answer.
func TableDigest(ctx context.Context, q Querier, table string) (rows int64, checksum string, err error) {
	if db, ok := q.(*sql.DB); ok {
		conn, err := db.Conn(ctx)
		if err != nil {
			return 0, "", fmt.Errorf("digest table %s: %w", table, err)
		}
		defer conn.Close()
		q = conn
	}
	restore, err := setDigestSession(ctx, q)
	if err != nil {
		return 0, "", fmt.Errorf("digest table %s: %w", table, err)
	}
	defer func() {
		if rerr := restore(); rerr != nil && err == nil {
			err = fmt.Errorf("digest table %s: restore session settings: %w", table, rerr)
		}
	}()
	m, err := loadTable(ctx, q, table)
	if err != nil {
		return 0, "", fmt.Errorf("digest table %s: %w", table, err)
	}
	r, err := openSQLRows(ctx, q, m)
	if err != nil {
		return 0, "", fmt.Errorf("digest table %s: %w", table, err)
	}
	defer r.rows.Close()
	d := newDigest(m)
	var buf []byte
	for {
		ok, err := r.next()
		if err != nil {
			return 0, "", fmt.Errorf("digest table %s: %w", table, err)
		}
		if !ok {
			break
		}
		if buf, err = encodeRow(buf[:0], r.kinds, r.vals); err != nil {
			return 0, "", fmt.Errorf("digest table %s: %w", table, err)
		}
		d.row(buf)
	}
	if err := r.rows.Close(); err != nil {
		return 0, "", fmt.Errorf("digest table %s: %w", table, err)
	}
	return d.rows, d.hex(), nil
}

// setDigestSession gives the session the settings a dump reads with and
// returns a function that puts the old ones back.
func setDigestSession(ctx context.Context, q Querier) (func() error, error) {
	rows, err := showRows(ctx, q, "SELECT @@SESSION.time_zone AS tz, @@SESSION.sql_mode AS mode, "+
		"@@SESSION.character_set_client AS cs_client, @@SESSION.character_set_results AS cs_results, "+
		"@@SESSION.collation_connection AS coll")
	if err != nil {
		return nil, fmt.Errorf("read session settings: %w", err)
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("read session settings: got %d rows", len(rows))
	}
	old := rows[0]
	for _, s := range []string{"SET NAMES utf8mb4", "SET SESSION time_zone = '+00:00'", "SET SESSION sql_mode = ''"} {
		if _, err := q.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	return func() error {
		results := "NULL"
		if old["cs_results"] != "" {
			results = quoteString(old["cs_results"])
		}
		// sql_mode last: the literals above rely on backslash escapes.
		_, err := q.ExecContext(context.WithoutCancel(ctx), "SET SESSION time_zone = "+quoteString(old["tz"])+
			", character_set_client = "+quoteString(old["cs_client"])+
			", character_set_results = "+results+
			", collation_connection = "+quoteString(old["coll"])+
			", sql_mode = "+quoteString(old["mode"]))
		return err
	}, nil
}
