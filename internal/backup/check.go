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
	// incomplete); an error from checkFile is a failure to read it.
	Problems []string
}

// checkFile reads dump name once: it hashes the compressed bytes, inflates
// the whole gzip stream to its end (a truncated stream, a CRC mismatch or
// garbage after the stream is a problem) and checks the SQL's last line.
// If man is not nil, the checksum and sizes are compared with it.
func checkFile(ctx context.Context, s Storage, name string, man *Manifest) (fileCheck, error) {
	var fc fileCheck
	f, err := s.Open(ctx, name)
	if err != nil {
		return fc, err
	}
	defer f.Close()
	src := &readErr{r: ctxReader{ctx: ctx, r: f}}
	hash := sha256.New()
	counted := &countWriter{w: hash}
	in := io.TeeReader(src, counted)
	tail := &tailWriter{}
	raw := &countWriter{w: tail}

	br := bufio.NewReaderSize(in, 256<<10)
	gzProblem := inflateAll(br, raw)
	if src.err != nil {
		return fc, fmt.Errorf("read %s: %w", name, src.err)
	}
	// Hash whatever is left after a defect, so that the checksum is the
	// whole file's.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return fc, fmt.Errorf("read %s: %w", name, err)
	}
	fc.SHA256 = hex.EncodeToString(hash.Sum(nil))
	fc.CompressedBytes = counted.n
	fc.RawBytes = raw.n
	fc.LastLine = tail.lastLine()
	fc.Trailer = tail.endsWithTrailer()

	if man != nil {
		if fc.SHA256 != man.SHA256 {
			fc.Problems = append(fc.Problems, fmt.Sprintf("checksum mismatch: the file's sha256 is %s, its manifest says %s: the file is damaged or was changed", fc.SHA256, man.SHA256))
		}
		if fc.CompressedBytes != man.CompressedBytes {
			fc.Problems = append(fc.Problems, fmt.Sprintf("the file has %d bytes, its manifest says %d", fc.CompressedBytes, man.CompressedBytes))
		}
	}
	if gzProblem != "" {
		fc.Problems = append(fc.Problems, gzProblem)
	} else {
		if man != nil && fc.RawBytes != man.RawBytes {
			fc.Problems = append(fc.Problems, fmt.Sprintf("the SQL has %d bytes uncompressed, the manifest says %d", fc.RawBytes, man.RawBytes))
		}
		if !fc.Trailer {
			fc.Problems = append(fc.Problems, fmt.Sprintf("the SQL does not end with the %q trailer (last line: %q): the dump is incomplete", TrailerPrefix, truncate(fc.LastLine, 80)))
		}
	}
	return fc, nil
}

// inflateAll decompresses the gzip file read from br into w, member by
// member (gzip allows concatenated members), to its very end, and returns
// what is wrong with it, or "" if nothing is.
func inflateAll(br *bufio.Reader, w io.Writer) string {
	zr, err := gzip.NewReader(br)
	if err != nil {
		return gzipProblem(err)
	}
	buf := make([]byte, 256<<10)
	for {
		zr.Multistream(false)
		if _, err := io.CopyBuffer(w, zr, buf); err != nil {
			return gzipProblem(err)
		}
		if _, err := br.Peek(1); err == io.EOF {
			return ""
		}
		// More bytes: another gzip member, or garbage.
		if err := zr.Reset(br); err != nil {
			return "garbage after the end of the gzip stream"
		}
	}
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
