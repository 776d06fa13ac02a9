package backup

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// fileCheck is what reading a dump file end to end found.
type fileCheck struct {
	SHA256          string
	CompressedBytes int64
	RawBytes        int64
	LastLine        string
	Trailer         bool
	// Problems are defects of the file itself (damaged, truncated,
	// incomplete); an error from checkReader is a failure to read it.
	Problems []string
}

// ErrTooLarge means a dump inflates to more SQL than it may: more than its
// manifest's RawBytes, or, without a manifest, more than rawBound allows.
// Reading stops there, so a decompression bomb costs next to nothing.
var ErrTooLarge = errors.New("the dump inflates to more SQL than expected")

// Without a manifest, a dump may inflate to unverifiedRawRatio times its
// compressed size plus unverifiedRawFloor. SQL dumps compress 3–10× (the
// demo POS's: 3.3×); gzip's own limit is about 1030×. 100× leaves room for
// dumps of very repetitive data while a bomb stops within a fraction of a
// second; the floor keeps tiny files from being refused. A genuine dump
// beyond it restores with the standard client (gunzip -c FILE | mysql DB).
const (
	unverifiedRawRatio = 100
	unverifiedRawFloor = 64 << 20
)

// rawBound is how many bytes of SQL dump may inflate to: its manifest's
// RawBytes, or without one a multiple of its compressed size.
func rawBound(man *Manifest, compressed int64) int64 {
	if man != nil {
		return man.RawBytes
	}
	return max(compressed, 0)*unverifiedRawRatio + unverifiedRawFloor
}

// checkReader reads dump name from r to its end: it hashes the stored
// bytes, decrypts them if the dump is encrypted (see crypt.go), inflates
// the whole gzip stream (a truncated stream, a CRC mismatch or garbage
// after the stream is a problem) and checks the SQL's last line. If man
// is not nil, the checksum and sizes are compared with it. Inflating
// stops, with a problem, as soon as the SQL grows past maxRaw bytes.
//
// An encrypted dump that m has no identity for (ErrNoIdentity), or none
// that matches (ErrWrongIdentity), is still hashed and compared with man;
// the returned fileCheck then holds those findings only, along with that
// error.
//
// Without inflate (before a restore into a new database of a dump that has
// a manifest, see Restore) the stored bytes are hashed and an encrypted
// dump's age header is read (so a missing or wrong identity is refused
// before anything changes), but nothing is inflated. A file whose sha256
// and size match the manifest is byte for byte the one the backup wrote,
// from a dump that ended with its trailer, and read back after storing:
// inflating it first would only prove again what the hash does, and cost
// a full pass over the SQL (about 2.3 s for the 1 GB demo database) before
// the first statement. The load still inflates it with gzip's checksums,
// bounded by the manifest's RawBytes, and hashes it again. RawBytes and
// Trailer are then the manifest's.
func (m *Manager) checkReader(ctx context.Context, r io.Reader, name string, man *Manifest, maxRaw int64, inflate bool) (fileCheck, error) {
	var fc fileCheck
	src := &readErr{r: ctxReader{ctx: ctx, r: r}}
	hash := sha256.New()
	counted := &countWriter{w: hash}
	in := io.TeeReader(src, counted)
	tail := &tailWriter{}
	raw := &countWriter{w: tail}

	br := bufio.NewReaderSize(in, 256<<10)
	var recipients []string
	if man != nil {
		recipients = man.Recipients
	}
	var gzProblem string
	var tooLarge bool
	plain, keyErr := m.decrypter(name, br, recipients)
	switch {
	case src.err != nil:
	case keyError(keyErr) != nil:
		// The stored bytes are hashed below all the same.
	case keyErr != nil:
		gzProblem, keyErr = keyErr.Error(), nil
	case !inflate:
	case plain == io.Reader(br):
		gzProblem, tooLarge = inflateAll(br, raw, maxRaw)
	default:
		dec := &readErr{r: plain}
		gzProblem, tooLarge = inflateAll(bufio.NewReaderSize(dec, 256<<10), raw, maxRaw)
		if dec.err != nil && !tooLarge {
			gzProblem = fmt.Sprintf("the age-encrypted data is damaged or truncated (%v): the file was changed or cut short", dec.err)
		}
	}
	if src.err != nil {
		return fc, fmt.Errorf("read %s: %w", name, src.err)
	}
	// Hash whatever is left after a defect (without inflating it), so
	// that the checksum is the whole file's.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return fc, fmt.Errorf("read %s: %w", name, err)
	}
	fc.SHA256 = hex.EncodeToString(hash.Sum(nil))
	fc.CompressedBytes = counted.n
	fc.RawBytes = raw.n
	fc.LastLine = tail.lastLine()
	fc.Trailer = tail.endsWithTrailer()

	if man != nil {
		fc.compare(man)
	}
	if keyErr != nil {
		return fc, keyErr
	}
	if !inflate && man != nil && gzProblem == "" {
		fc.RawBytes, fc.Trailer = man.RawBytes, true
		return fc, nil
	}
	switch {
	case tooLarge:
		fc.Problems = append(fc.Problems, tooLargeProblem(man, maxRaw))
	case gzProblem != "":
		fc.Problems = append(fc.Problems, gzProblem)
	default:
		if man != nil && fc.RawBytes != man.RawBytes {
			fc.Problems = append(fc.Problems, fmt.Sprintf("the SQL has %d bytes uncompressed, the manifest says %d", fc.RawBytes, man.RawBytes))
		}
		if !fc.Trailer {
			fc.Problems = append(fc.Problems, fmt.Sprintf("the SQL does not end with the %q trailer (last line: %q): the dump is incomplete", TrailerPrefix, truncate(fc.LastLine, 80)))
		}
	}
	return fc, nil
}

// compare adds a problem for each way the stored file differs from man.
func (fc *fileCheck) compare(man *Manifest) {
	if fc.SHA256 != man.SHA256 {
		fc.Problems = append(fc.Problems, fmt.Sprintf("checksum mismatch: the file's sha256 is %s, its manifest says %s: the file is damaged or was changed", fc.SHA256, man.SHA256))
	}
	if fc.CompressedBytes != man.CompressedBytes {
		fc.Problems = append(fc.Problems, fmt.Sprintf("the file has %d bytes, its manifest says %d", fc.CompressedBytes, man.CompressedBytes))
	}
}

// tooLargeProblem says that a dump inflated past maxRaw bytes.
func tooLargeProblem(man *Manifest, maxRaw int64) string {
	if man != nil {
		return fmt.Sprintf("%v: more than the %d bytes its manifest says; reading stopped there: the file is damaged, was replaced, or is a decompression bomb", ErrTooLarge, maxRaw)
	}
	return fmt.Sprintf("%v: more than %d bytes (%d× its compressed size, plus %d MiB) and it has no manifest to say more; reading stopped there: a decompression bomb? If the file is a genuine dump, load it with the standard client: gunzip -c FILE | mysql DB", ErrTooLarge, maxRaw, unverifiedRawRatio, unverifiedRawFloor>>20)
}

// inflateAll decompresses the gzip file read from br into w, member by
// member (gzip allows concatenated members), to its very end, and returns
// what is wrong with it, or "" if nothing is. It stops as soon as more
// than maxRaw bytes of SQL come out, and then reports tooLarge.
func inflateAll(br *bufio.Reader, w io.Writer, maxRaw int64) (problem string, tooLarge bool) {
	zr, err := gzip.NewReader(br)
	if err != nil {
		return gzipProblem(err), false
	}
	lim := &rawLimit{r: zr, max: maxRaw}
	buf := make([]byte, 256<<10)
	for {
		zr.Multistream(false)
		if _, err := io.CopyBuffer(w, lim, buf); err != nil {
			if errors.Is(err, ErrTooLarge) {
				return err.Error(), true
			}
			return gzipProblem(err), false
		}
		if _, err := br.Peek(1); err == io.EOF {
			return "", false
		}
		// More bytes: another gzip member, or garbage.
		if err := zr.Reset(br); err != nil {
			return "garbage after the end of the gzip stream", false
		}
	}
}

// rawLimit hands out at most max bytes of r; asked for more, it fails with
// ErrTooLarge. It never asks r for more than one byte beyond max, so a
// decompressor behind it inflates little more than max.
type rawLimit struct {
	r   io.Reader
	max int64
	n   int64
}

func (l *rawLimit) Read(p []byte) (int, error) {
	if left := l.max - l.n + 1; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n - int(l.n-l.max), fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.max)
	}
	return n, err
}

// gzipProblem says what a gzip reader's error means for the file.
func gzipProblem(err error) string {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the gzip stream ends early (unexpected end of file): the file is truncated"
	case errors.Is(err, io.EOF):
		return "the file is empty"
	case errors.Is(err, gzip.ErrChecksum):
		return "gzip CRC check failed: the compressed data is damaged"
	case errors.Is(err, gzip.ErrHeader):
		return "not gzip data, or garbage after the end of the gzip stream"
	case errors.As(err, &corrupt):
		return fmt.Sprintf("corrupt compressed data near byte %d: the file is damaged", int64(corrupt))
	default:
		return "the gzip stream cannot be read: " + err.Error()
	}
}

// readErr remembers the error of the underlying reader (other than EOF), to
// tell a failing disk from a damaged file.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}
