package config

import (
	"path/filepath"
	"unicode"

	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// Destination is one entry of BACKUP_STORAGE: a place where every backup
// is kept, with its own listing and retention.
type Destination struct {
	// Name is what `backup … --storage NAME` takes and what listings and
	// emails show: the kind ("file", "s3"), numbered from the second one
	// of a kind on ("s3-2").
	Name string
	// Kind is "file" or "s3".
	Kind string
	// Path is a file destination's directory.
	Path string
	// Bucket and Prefix locate an s3 destination's objects (Prefix without
	// leading or trailing "/"; "" for the bucket's top).
	Bucket, Prefix string
}

// String is the destination as BACKUP_STORAGE spells it (it holds no
// secret: S3 credentials have variables of their own).
func (d Destination) String() string {
	switch d.Kind {
	case "s3":
		if d.Prefix == "" {
			return "s3://" + d.Bucket
		}
		return "s3://" + d.Bucket + "/" + d.Prefix
	default:
		return "file://" + d.Path
	}
}

// S3 is how to reach S3-compatible object storage (S3_* variables), shared
// by every s3:// destination.
type S3 struct {
	// Endpoint is "" for AWS, else host[:port] or an http(s):// URL.
	Endpoint        string
	Region          string
	AccessKeyID     string
	SecretAccessKey Secret
	// ForcePathStyle addresses buckets as endpoint/bucket rather than
	// bucket.endpoint (MinIO and most self-hosted stores need it).
	ForcePathStyle bool
}

var (
	prefixRE = regexp.MustCompile(`^[A-Za-z0-9!_.*'()/-]*$`)
)

// storage reads BACKUP_STORAGE (default: file://BACKUP_DIR) and, when an
// s3:// destination is listed, the S3_* variables.
func (p *parser) storage(backupDir string) ([]Destination, S3) {
	const name = "BACKUP_STORAGE"
	raw := p.str(name, "")
	var dests []Destination
	if strings.TrimSpace(raw) == "" {
		dests = []Destination{{Name: "file", Kind: "file", Path: backupDir}}
	}
	count := map[string]int{}
	for i, entry := range strings.Split(raw, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			if strings.TrimSpace(raw) != "" {
				p.fail(name, "entry %d is empty (a stray comma?)", i+1)
			}
			continue
		}
		d, err := parseDestination(entry)
		if err != nil {
			p.fail(name, "entry %d: %v", i+1, err)
			continue
		}
		count[d.Kind]++
		d.Name = d.Kind
		if n := count[d.Kind]; n > 1 {
			d.Name += "-" + strconv.Itoa(n)
		}
		for _, o := range dests {
			if o.String() == d.String() {
				p.fail(name, "entry %d: %s is listed twice", i+1, d)
			}
		}
		dests = append(dests, d)
	}

	var s3 S3
	hasS3 := count["s3"] > 0
	s3.Endpoint = strings.TrimRight(p.str("S3_ENDPOINT", ""), "/")
	s3.Region = p.str("S3_REGION", "")
	s3.AccessKeyID = p.str("S3_ACCESS_KEY_ID", "")
	s3.SecretAccessKey = Secret(p.str("S3_SECRET_ACCESS_KEY", ""))
	p.password("S3_SECRET_ACCESS_KEY", s3.SecretAccessKey, "use the key the storage provider generated")
	s3.ForcePathStyle = p.boolean("S3_FORCE_PATH_STYLE", false)
	if s3.Endpoint != "" {
		if err := checkEndpoint(s3.Endpoint); err != nil {
			p.fail("S3_ENDPOINT", "%v", err)
		}
	}
	if hasS3 {
		if s3.AccessKeyID == "" {
			p.fail("S3_ACCESS_KEY_ID", "is required for the s3:// destination in BACKUP_STORAGE")
		}
		if s3.SecretAccessKey == "" {
			p.fail("S3_SECRET_ACCESS_KEY", "is required for the s3:// destination in BACKUP_STORAGE")
		}
	}
	return dests, s3
}

// CheckS3Prefix accepts an object-key prefix (without leading or trailing
// "/") of letters, digits and !_.*'()- between single slashes, with no "."
// or ".." segment: the one rule of BACKUP_STORAGE and backup.NewS3Storage.
func CheckS3Prefix(prefix string) error {
	if !prefixRE.MatchString(prefix) || strings.Contains(prefix, "//") || slices.Contains(strings.Split(prefix, "/"), "..") || slices.Contains(strings.Split(prefix, "/"), ".") {
		return fmt.Errorf("prefix %q may hold only letters, digits and !_.*'()- between single slashes", prefix)
	}
	return nil
}

// parseDestination reads one BACKUP_STORAGE entry.
func parseDestination(entry string) (Destination, error) {
	scheme, rest, ok := strings.Cut(entry, "://")
	if !ok {
		return Destination{}, fmt.Errorf("%q: want file:///path/to/dir or s3://bucket/prefix", entry)
	}
	switch strings.ToLower(scheme) {
	case "file":
		if rest == "" {
			return Destination{}, fmt.Errorf("%q has no directory: want file:///path/to/dir", entry)
		}
		if strings.ContainsAny(rest, "?#") {
			return Destination{}, fmt.Errorf("%q: a directory path takes no query or fragment", entry)
		}
		path, err := url.PathUnescape(rest)
		if err != nil {
			return Destination{}, fmt.Errorf("%q: bad %%-escape in the path", entry)
		}
		// file:///C:/backups is C:/backups.
		if len(path) >= 3 && path[0] == '/' && path[2] == ':' && unicode.IsLetter(rune(path[1])) {
			path = path[1:]
		}
		return Destination{Kind: "file", Path: filepath.Clean(path)}, nil
	case "s3":
		if strings.Contains(rest, "@") {
			// Never echo the entry: it holds what looks like a secret.
			return Destination{}, fmt.Errorf("an s3:// destination takes no credentials: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY instead")
		}
		u, err := url.Parse("s3://" + rest)
		if err != nil {
			return Destination{}, fmt.Errorf("%q is not a URL: want s3://bucket/prefix", entry)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.Port() != "" {
			return Destination{}, fmt.Errorf("%q: want s3://bucket or s3://bucket/prefix (the endpoint goes in S3_ENDPOINT)", entry)
		}
		if s3utils.CheckValidBucketNameStrict(u.Host) != nil {
			return Destination{}, fmt.Errorf("%q: bucket name %q is not a valid S3 bucket name (3–63 lowercase letters, digits, dots and hyphens)", entry, u.Host)
		}
		prefix := strings.Trim(u.Path, "/")
		if err := CheckS3Prefix(prefix); err != nil {
			return Destination{}, fmt.Errorf("%q: %w", entry, err)
		}
		return Destination{Kind: "s3", Bucket: u.Host, Prefix: prefix}, nil
	default:
		return Destination{}, fmt.Errorf("%q: unknown kind %q (want file:// or s3://)", entry, scheme)
	}
}

// checkEndpoint accepts host[:port] or an http(s) URL with no path.
func checkEndpoint(ep string) error {
	if strings.Contains(ep, "@") {
		// Never echo it: it holds what looks like a secret.
		return fmt.Errorf("an endpoint takes no credentials: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY instead")
	}
	raw := ep
	if !strings.Contains(ep, "://") {
		raw = "https://" + ep
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q: want host[:port] or https://host[:port]", ep)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: the scheme must be http or https", ep)
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return fmt.Errorf("%q: the endpoint is a host without a path; put the bucket and prefix in BACKUP_STORAGE (s3://bucket/prefix)", ep)
	}
	return nil
}

// backupDir is the directory whose filesystem the disk check measures: the
// first file destination's. BACKUP_DIR set beside a BACKUP_STORAGE that
// does not list it is refused rather than silently ignored.
func (p *parser) backupDir(dir string, dests []Destination) string {
	_, set := p.lookup("BACKUP_DIR")
	clean := filepath.Clean(dir)
	raw, _ := p.lookup("BACKUP_STORAGE")
	listed := strings.TrimSpace(raw) != ""
	for _, d := range dests {
		if d.Kind == "file" {
			if set && listed && d.Path != clean && !slices.ContainsFunc(dests, func(o Destination) bool { return o.Kind == "file" && o.Path == clean }) {
				p.fail("BACKUP_DIR", "is %s, which BACKUP_STORAGE does not list: add file://%s to BACKUP_STORAGE or unset BACKUP_DIR", dir, dir)
			}
			return d.Path
		}
	}
	if set && listed {
		p.fail("BACKUP_DIR", "is set, but BACKUP_STORAGE lists no file:// destination: add file://%s to BACKUP_STORAGE or unset BACKUP_DIR", dir)
	}
	return dir
}
