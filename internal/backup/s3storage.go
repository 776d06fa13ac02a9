package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

var _ Storage = (*S3Storage)(nil)

// S3 part sizes. Every part is checked by the server (Content-MD5) before
// it is stored; an upload holds one part in memory.
const (
	DefaultS3PartSize = 8 << 20
	MinS3PartSize     = 5 << 20 // S3's smallest part but the last
	maxS3PartSize     = 5 << 30 // S3's largest part
	awsS3Endpoint     = "s3.amazonaws.com"
	s3TempHashLen     = 16 // hex characters of sha256(upload ID) in a temp name
)

// S3Options configure an S3Storage.
type S3Options struct {
	// Endpoint is "host:port" (HTTPS), "https://host[:port]" or
	// "http://host[:port]"; "" means AWS (s3.amazonaws.com).
	Endpoint string
	// Region is the bucket's region; "" lets the client ask the server
	// (R2 wants "auto").
	Region                       string
	AccessKeyID, SecretAccessKey string
	// Bucket holds the backups under Prefix ("" for the bucket's root).
	Bucket, Prefix string
	// ForcePathStyle addresses the bucket as https://host/bucket instead of
	// https://bucket.host (MinIO and most self-hosted servers need it).
	ForcePathStyle bool
	// PartSize is the multipart upload's part size: 0 means
	// DefaultS3PartSize; at least MinS3PartSize. An upload has at most
	// 10,000 parts, so it bounds a backup at 10,000 × PartSize.
	PartSize int64
}

// S3Storage stores backups as objects of an S3-compatible bucket (AWS S3,
// MinIO, Cloudflare R2, Backblaze B2), under "<prefix>/<name>".
//
// An upload is a streaming multipart upload: the object exists under its
// name only once CompleteMultipartUpload has assembled every part, so a
// crash leaves no partial object, only an incomplete multipart upload,
// which List reports as a temporary object ".<name>.tmp-<hash of the
// upload ID>" (ModTime: when it was initiated) and Delete aborts. Each part
// carries its Content-MD5, and no x-amz-checksum headers or trailers are
// sent (several S3-compatible stores reject them).
//
// Modification times are kept to the second (HEAD answers with seconds,
// listings with milliseconds), so List and Stat agree.
//
// On MinIO, an incomplete upload is listed (through ListMultipartUploads
// without a prefix) only from its server's memory: after a MinIO restart
// the leftovers of earlier uploads are no longer listed, and MinIO itself
// removes them after its stale-upload expiry (24 h by default).
type S3Storage struct {
	client   *minio.Client
	bucket   string
	prefix   string // "" or ends with "/"
	partSize int64
	endpoint string // for messages: scheme://host
}

// NewS3Storage checks o and returns the storage; it makes no request.
func NewS3Storage(o S3Options) (*S3Storage, error) {
	var problems []string
	host, secure, err := parseS3Endpoint(o.Endpoint)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if err := s3utils.CheckValidBucketNameStrict(o.Bucket); err != nil {
		problems = append(problems, fmt.Sprintf("bucket %q: %v", o.Bucket, err))
	}
	prefix := strings.Trim(o.Prefix, "/")
	if err := config.CheckS3Prefix(prefix); err != nil {
		problems = append(problems, err.Error())
	}
	if prefix != "" {
		prefix += "/"
	}
	if o.AccessKeyID == "" {
		problems = append(problems, "the access key ID is empty (S3_ACCESS_KEY_ID)")
	}
	if o.SecretAccessKey == "" {
		problems = append(problems, "the secret access key is empty (S3_SECRET_ACCESS_KEY)")
	}
	part := o.PartSize
	switch {
	case part == 0:
		part = DefaultS3PartSize
	case part < MinS3PartSize || part > maxS3PartSize:
		problems = append(problems, fmt.Sprintf("part size %d: want 5 MiB to 5 GiB", part))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("s3 storage: %s", strings.Join(problems, "; "))
	}
	lookup := minio.BucketLookupAuto
	if o.ForcePathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(o.AccessKeyID, o.SecretAccessKey, ""),
		Secure:       secure,
		Region:       o.Region,
		BucketLookup: lookup,
		// TrailingHeaders stays off: with it, minio-go adds CRC32C
		// checksums (x-amz-checksum-*, x-amz-sdk-checksum-algorithm,
		// trailers) to every upload, which R2 and B2 refuse.
	})
	if err != nil {
		return nil, fmt.Errorf("s3 storage: endpoint %q: %w", o.Endpoint, err)
	}
	scheme := "https://"
	if !secure {
		scheme = "http://"
	}
	return &S3Storage{client: c, bucket: o.Bucket, prefix: prefix, partSize: part, endpoint: scheme + host}, nil
}

// parseS3Endpoint splits an endpoint into host[:port] and whether it is
// HTTPS.
func parseS3Endpoint(e string) (host string, secure bool, err error) {
	if e == "" {
		return awsS3Endpoint, true, nil
	}
	if strings.Contains(e, "@") {
		return "", false, errors.New("the endpoint must not hold credentials: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY")
	}
	secure = true
	if scheme, rest, ok := strings.Cut(e, "://"); ok {
		switch strings.ToLower(scheme) {
		case "https":
		case "http":
			secure = false
		default:
			return "", false, fmt.Errorf("endpoint %q: the scheme must be https:// or http://", e)
		}
		e = rest
	}
	e = strings.TrimSuffix(e, "/")
	u, perr := url.Parse("//" + e)
	if perr != nil || u.Host == "" || u.Host != e || u.User != nil {
		return "", false, fmt.Errorf("endpoint %q: want host[:port], https://host[:port] or http://host[:port], without a path", e)
	}
	return u.Host, secure, nil
}

// String is "s3://bucket/prefix"; it never holds a credential.
func (s *S3Storage) String() string {
	if s.prefix == "" {
		return "s3://" + s.bucket
	}
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

// Bucket is the storage's bucket.
func (s *S3Storage) Bucket() string { return s.bucket }

// Prefix is the key prefix of every object: "" or ending with "/".
func (s *S3Storage) Prefix() string { return s.prefix }

func (s *S3Storage) key(name string) string { return s.prefix + name }

// s3Time is an object's time as List and Stat report it: UTC, to the
// second.
func s3Time(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// s3TempName is the temporary name List gives to the incomplete upload
// uploadID of object name.
func s3TempName(name, uploadID string) string {
	sum := sha256.Sum256([]byte(uploadID))
	return "." + name + tempInfix + hex.EncodeToString(sum[:])[:s3TempHashLen]
}

// List implements Storage: the dumps and manifests directly under the
// prefix, and the incomplete multipart uploads of such names as temporary
// objects.
func (s *S3Storage) List(ctx context.Context) ([]Object, error) {
	var out []Object
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix}) {
		if o.Err != nil {
			return nil, s.fail("list", "", o.Err)
		}
		name, ok := strings.CutPrefix(o.Key, s.prefix)
		if !ok || validFinalName(name) != nil {
			continue
		}
		out = append(out, Object{Name: name, Size: o.Size, ModTime: s3Time(o.LastModified), ETag: strings.Trim(o.ETag, `"`)})
	}
	// Without a prefix: MinIO takes a prefix for one exact key (and lists
	// every upload of the bucket without one); other stores filter by
	// prefix. Both are narrowed to ours here. A key whose policy allows
	// the listing under our prefix only is refused the bucket-wide one:
	// then ask with the prefix; refused again, leftovers are not listed
	// (the bucket's lifecycle rule aborts them), which fails nothing.
	temps, err := s.listUploads(ctx, "")
	if s3Code(err) == "AccessDenied" && s.prefix != "" {
		temps, err = s.listUploads(ctx, s.prefix)
	}
	switch code := s3Code(err); {
	case err == nil:
		out = append(out, temps...)
	case code == minio.NotImplemented || code == "AccessDenied":
		// a store without the listing, or a key without the right
	default:
		return nil, s.fail("list incomplete uploads in", "", err)
	}
	return out, nil
}

// listUploads lists our incomplete multipart uploads among those under
// prefix, as temporary objects.
func (s *S3Storage) listUploads(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	for u := range s.client.ListIncompleteUploads(ctx, s.bucket, prefix, true) {
		if u.Err != nil {
			return nil, u.Err
		}
		name, ok := strings.CutPrefix(u.Key, s.prefix)
		if !ok || u.UploadID == "" || validFinalName(name) != nil {
			continue
		}
		out = append(out, Object{Name: s3TempName(name, u.UploadID), ModTime: s3Time(u.Initiated), Temp: true})
	}
	return out, nil
}

// Stat implements Storage.
func (s *S3Storage) Stat(ctx context.Context, name string) (Object, error) {
	if err := validFinalName(name); err != nil {
		return Object{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{})
	if err != nil {
		return Object{}, s.fail("stat", name, err)
	}
	return Object{Name: name, Size: info.Size, ModTime: s3Time(info.LastModified), ETag: strings.Trim(info.ETag, `"`)}, nil
}

// Open implements Storage. The reader is a *minio.Object: it streams the
// object and seeks with ranged GETs pinned to the object's ETag, so a
// restore reads it twice (check, load) without a local copy.
func (s *S3Storage) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := validFinalName(name); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(name), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.fail("open", name, err)
	}
	// GetObject sends nothing until the first call. An empty read starts
	// the GET whose body the reads then consume (Stat would send a HEAD,
	// and the GET after it would fail should a Replace come in between).
	if _, err := obj.Read(nil); err != nil && !errors.Is(err, io.EOF) {
		_ = obj.Close()
		return nil, s.fail("open", name, err)
	}
	return obj, nil
}

// Delete implements Storage. Deleting a temporary object aborts its
// multipart upload.
func (s *S3Storage) Delete(ctx context.Context, name string) error {
	if err := validObjectName(name); err != nil {
		return err
	}
	if k, _ := classifyName(name); k == kindTemp {
		return s.abortTemp(ctx, name)
	}
	if _, err := s.client.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{}); err != nil {
		return s.fail("delete", name, err)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.key(name), minio.RemoveObjectOptions{}); err != nil {
		return s.fail("delete", name, err)
	}
	return nil
}

// abortTemp aborts the multipart upload that List named temp.
func (s *S3Storage) abortTemp(ctx context.Context, temp string) error {
	m := tempRE.FindStringSubmatch(temp)
	name := m[1]
	key := s.key(name)
	for u := range s.client.ListIncompleteUploads(ctx, s.bucket, key, true) {
		if u.Err != nil {
			return s.fail("delete", temp, u.Err)
		}
		if u.Key != key || s3TempName(name, u.UploadID) != temp {
			continue
		}
		err := minio.Core{Client: s.client}.AbortMultipartUpload(ctx, s.bucket, key, u.UploadID)
		if err != nil && s3Code(err) != minio.NoSuchUpload {
			return s.fail("abort the upload of", temp, err)
		}
		return nil
	}
	return fmt.Errorf("delete %s: %w", temp, ErrNotFound)
}

// putOptions are the options of every upload: Content-MD5 on each part
// (or the whole object), the payload unsigned (its MD5 protects it, and
// over plain HTTP minio-go would otherwise use the aws-chunked streaming
// signature, which not every store takes), no checksum headers.
func (s *S3Storage) putOptions() minio.PutObjectOptions {
	return minio.PutObjectOptions{
		PartSize:             uint64(s.partSize),
		SendContentMd5:       true,
		DisableContentSha256: true,
		NumThreads:           1,
		ContentType:          "application/octet-stream",
	}
}

// Replace implements Storage with one PUT, which S3 applies at once.
func (s *S3Storage) Replace(ctx context.Context, name string, data []byte) error {
	if err := validFinalName(name); err != nil {
		return err
	}
	opts := s.putOptions()
	opts.DisableMultipart = true
	if _, err := s.client.PutObject(ctx, s.bucket, s.key(name), bytes.NewReader(data), int64(len(data)), opts); err != nil {
		return s.fail("replace", name, err)
	}
	return nil
}

// Create implements Storage: a multipart upload fed through a pipe, one
// part in memory at a time. ctx bounds the whole upload.
func (s *S3Storage) Create(ctx context.Context, name string) (Upload, error) {
	if err := validFinalName(name); err != nil {
		return nil, err
	}
	if _, err := s.client.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{}); err == nil {
		return nil, fmt.Errorf("create %s: %w", name, ErrExists)
	} else if err = s.fail("create", name, err); !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	pr, pw := io.Pipe()
	// Abort cancels the upload's own context, so that a part stuck on a
	// server that stopped answering does not hold the backup up.
	uctx, cancel := context.WithCancel(ctx)
	u := &s3Upload{s: s, name: name, pw: pw, done: make(chan struct{}), cancel: cancel}
	go func() {
		defer cancel()
		info, err := s.client.PutObject(uctx, s.bucket, s.key(name), pr, -1, s.putOptions())
		// Writers blocked on the pipe learn why the upload stopped.
		_ = pr.CloseWithError(err)
		u.info, u.err = info, err
		close(u.done)
	}()
	return u, nil
}

// errUploadAborted is what the upload's reader returns after Abort; it
// makes minio-go abort the multipart upload.
var errUploadAborted = errors.New("upload aborted")

// s3Upload is an S3Storage upload in progress.
type s3Upload struct {
	s      *S3Storage
	name   string
	pw     *io.PipeWriter
	done   chan struct{} // closed when PutObject has returned
	cancel context.CancelFunc
	info   minio.UploadInfo
	err    error // PutObject's

	n        atomic.Int64 // bytes written
	mu       sync.Mutex
	finished bool // committed or aborted
}

// Write blocks until minio-go has taken p into its part buffer. The lock
// is not held meanwhile, so that an Abort can stop a Write waiting on a
// stalled part upload.
func (u *s3Upload) Write(p []byte) (int, error) {
	u.mu.Lock()
	finished := u.finished
	u.mu.Unlock()
	if finished {
		return 0, errors.New("write to a finished upload")
	}
	n, err := u.pw.Write(p)
	u.n.Add(int64(n))
	if err != nil {
		return n, u.s.fail("upload", u.name, err)
	}
	return n, nil
}

// Commit ends the input and waits for CompleteMultipartUpload, which makes
// the object appear whole. The lock is not held while it waits, so that
// an Abort can cancel a completion stuck on a silent server.
func (u *s3Upload) Commit() error {
	u.mu.Lock()
	if u.finished {
		u.mu.Unlock()
		return errors.New("commit of a finished upload")
	}
	u.finished = true
	u.mu.Unlock()
	_ = u.pw.Close()
	<-u.done
	if u.err != nil {
		return u.s.fail("commit", u.name, u.err)
	}
	if n := u.n.Load(); u.info.Size != n {
		return fmt.Errorf("commit %s: the server stored %d bytes of %d written", u.name, u.info.Size, n)
	}
	return nil
}

// Abort stops the upload; minio-go then aborts the multipart upload (on a
// context of its own, so a cancelled backup still cleans up). Should that
// request fail, the upload is left for Cleanup, which lists it. During a
// Commit it cancels the completion (which then fails); after one it does
// nothing.
func (u *s3Upload) Abort() error {
	u.mu.Lock()
	if u.finished {
		u.mu.Unlock()
		select {
		case <-u.done: // committed (or failed): nothing to stop
		default:
			u.cancel() // a Commit still waiting: stop it
		}
		return nil
	}
	u.finished = true
	u.mu.Unlock()
	_ = u.pw.CloseWithError(errUploadAborted)
	u.cancel()
	// minio-go now sends AbortMultipartUpload; a server that stopped
	// answering would hold it until the HTTP client gives up (a minute):
	// past abortWait that request goes on alone, and should it fail,
	// Cleanup aborts the upload it lists.
	select {
	case <-u.done:
	case <-time.After(abortWait):
	}
	return nil
}

// abortWait is how long Abort waits for the multipart upload's abort.
const abortWait = 5 * time.Second

// S3Error is a failed request to an S3 storage. Its message names the
// operation, the object and the storage, and, where there is one, what the
// operator can do (Hint).
type S3Error struct {
	Op, Name, Storage string
	Err               error
	hint              string
}

func (e *S3Error) Error() string {
	msg := e.Op + " " + e.Storage + ": " + e.Err.Error()
	if e.Name != "" {
		msg = e.Op + " " + e.Name + " in " + e.Storage + ": " + e.Err.Error()
	}
	if e.hint != "" {
		msg += " (" + e.hint + ")"
	}
	return msg
}

func (e *S3Error) Unwrap() error { return e.Err }

// Hint says what to do about the error, or "".
func (e *S3Error) Hint() string { return e.hint }

// s3Code is the S3 error code in err's chain ("NoSuchKey" …), or "".
func s3Code(err error) string {
	var r minio.ErrorResponse
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

// fail wraps err of operation op on object name ("" for the storage as a
// whole): a missing object becomes ErrNotFound, and failures an operator
// can fix get a hint.
func (s *S3Storage) fail(op, name string, err error) error {
	code := s3Code(err)
	if name != "" && (code == minio.NoSuchKey || code == "NotFound") {
		return fmt.Errorf("%s %s: %w", op, name, ErrNotFound)
	}
	e := &S3Error{Op: op, Name: name, Storage: s.String(), Err: err}
	var netErr *net.OpError
	switch {
	case errors.Is(err, errUploadAborted):
	case code == minio.NoSuchBucket:
		e.hint = fmt.Sprintf("bucket %q does not exist at %s: create it, or correct the bucket in BACKUP_STORAGE or S3_ENDPOINT", s.bucket, s.endpoint)
	case code == minio.AccessDenied || code == minio.InvalidAccessKeyID || code == minio.SignatureDoesNotMatch:
		e.hint = fmt.Sprintf("%s refused the credentials: check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, and that the key may list, read, write and delete objects and abort multipart uploads in bucket %q", s.endpoint, s.bucket)
	case code == "AuthorizationHeaderMalformed" || code == "InvalidRegion":
		e.hint = "the region does not match the bucket's: set S3_REGION (\"auto\" for Cloudflare R2)"
	case errors.As(err, &netErr) && netErr.Op == "dial":
		e.hint = fmt.Sprintf("cannot connect to %s: check S3_ENDPOINT and that the storage is up and reachable", s.endpoint)
	}
	return e
}

// s3Hint is the hint of an S3 storage failure in err's chain, or "".
func s3Hint(err error) string {
	var e *S3Error
	if errors.As(err, &e) {
		return e.hint
	}
	return ""
}
