package backup

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// File names. A backup of database "cantina" started at 02:00:00 UTC on
// 2025-03-01 is the pair
//
//	cantina-20250301T020000Z.sql.gz       the dump
//	cantina-20250301T020000Z.sql.gz.json  its manifest
//
// and while it is being written, a temporary file
// ".cantina-20250301T020000Z.sql.gz.tmp-<random>" in the same directory.
// A backup encrypted with age (see crypt.go) is named the same plus AgeExt:
// cantina-20250301T020000Z.sql.gz.age and its manifest
// cantina-20250301T020000Z.sql.gz.age.json.
const (
	DumpExt      = ".sql.gz"
	AgeExt       = ".age"
	ManifestExt  = ".json"
	TimeLayout   = "20060102T150405Z"
	tempInfix    = ".tmp-"
	maxPrefixLen = 64
)

// ErrInvalidName means a name is not one of our backup file names. Restore,
// Verify and the storage refuse such names, so a name typed by an operator
// can never reach outside BACKUP_DIR.
var ErrInvalidName = errors.New("invalid backup name")

var (
	dumpRE = regexp.MustCompile(`^([A-Za-z0-9_-]{1,64})-([0-9]{8}T[0-9]{6}Z)\.sql\.gz(\.age)?$`)
	tempRE = regexp.MustCompile(`^\.(.+)\.tmp-[A-Za-z0-9]{1,32}$`)
)

// NameInfo is what a dump's file name says.
type NameInfo struct {
	// Prefix is the database name as it appears in file names: the real
	// name with every character outside [A-Za-z0-9_-] replaced by "_".
	Prefix string
	// Time is the backup's start, UTC, to the second.
	Time time.Time
	// Encrypted: the name ends in AgeExt, the dump is encrypted with age.
	Encrypted bool
}

// FilePrefix is the database name as file names carry it: characters
// outside [A-Za-z0-9_-] become "_" and it is cut to 64 characters.
func FilePrefix(database string) string {
	var b strings.Builder
	for _, r := range database {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	p := b.String()
	if len(p) > maxPrefixLen {
		p = p[:maxPrefixLen]
	}
	if p == "" {
		p = "_"
	}
	return p
}

// DumpName is the file name of a backup of database started at t.
func DumpName(database string, t time.Time) string {
	return FilePrefix(database) + "-" + t.UTC().Format(TimeLayout) + DumpExt
}

// timeTaken reports whether a backup started at the time of plain (a
// DumpName) is in taken, under either name, or its manifest is.
func timeTaken(taken map[string]bool, plain string) bool {
	for _, n := range []string{plain, plain + AgeExt} {
		if taken[n] || taken[ManifestName(n)] {
			return true
		}
	}
	return false
}

// ManifestName is the name of the manifest that sits beside dump.
func ManifestName(dump string) string { return dump + ManifestExt }

// ParseName checks that name is a dump file name of ours and returns what
// it says. The error wraps ErrInvalidName and says what is wrong.
func ParseName(name string) (NameInfo, error) {
	switch {
	case name == "":
		return NameInfo{}, fmt.Errorf("%w: the name is empty", ErrInvalidName)
	case filepath.IsAbs(name) || strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) || hasDriveLetter(name):
		return NameInfo{}, fmt.Errorf("%w %q: give a file name from `cantina-ops backup list`, not a path", ErrInvalidName, name)
	case strings.ContainsAny(name, `/\`):
		return NameInfo{}, fmt.Errorf("%w %q: a backup name has no directory part; backups are read from BACKUP_DIR only", ErrInvalidName, name)
	case strings.Contains(name, ".."):
		return NameInfo{}, fmt.Errorf("%w %q: \"..\" is not allowed", ErrInvalidName, name)
	}
	m := dumpRE.FindStringSubmatch(name)
	if m == nil {
		return NameInfo{}, fmt.Errorf("%w %q: want DATABASE-YYYYMMDDTHHMMSSZ%s (or %s%s when encrypted), as `cantina-ops backup list` shows", ErrInvalidName, name, DumpExt, DumpExt, AgeExt)
	}
	t, err := time.Parse(TimeLayout, m[2])
	if err != nil {
		return NameInfo{}, fmt.Errorf("%w %q: bad timestamp %s", ErrInvalidName, name, m[2])
	}
	return NameInfo{Prefix: m[1], Time: t.UTC(), Encrypted: m[3] != ""}, nil
}

// hasDriveLetter reports whether name starts with a Windows drive ("C:"),
// on every system, so that a name is judged the same everywhere.
func hasDriveLetter(name string) bool {
	return len(name) >= 2 && name[1] == ':' && ('a' <= name[0]|0x20 && name[0]|0x20 <= 'z')
}

// ValidateName returns nil when name is a dump file name of ours.
func ValidateName(name string) error {
	_, err := ParseName(name)
	return err
}

// objectKind sorts a file in the storage.
type objectKind int

const (
	kindOther    objectKind = iota // not ours: never touched
	kindDump                       // <db>-<ts>.sql.gz or <db>-<ts>.sql.gz.age
	kindManifest                   // <dump>.json
	kindTemp                       // .<dump or manifest>.tmp-<random>
)

// classifyName tells what kind of object name is; for a manifest or a
// temporary file it also returns the dump name it belongs to.
func classifyName(name string) (objectKind, string) {
	if ValidateName(name) == nil {
		return kindDump, name
	}
	if d, ok := strings.CutSuffix(name, ManifestExt); ok && ValidateName(d) == nil {
		return kindManifest, d
	}
	if m := tempRE.FindStringSubmatch(name); m != nil {
		if k, d := classifyName(m[1]); k == kindDump || k == kindManifest {
			return kindTemp, d
		}
	}
	return kindOther, ""
}

// validObjectName reports whether a storage may hand out or delete name:
// a dump, a manifest or a temporary file of ours.
func validObjectName(name string) error {
	if k, _ := classifyName(name); k != kindOther {
		return nil
	}
	if err := ValidateName(name); err != nil {
		return err
	}
	return fmt.Errorf("%w %q", ErrInvalidName, name)
}

// validFinalName reports whether name may be created: a dump or a manifest.
func validFinalName(name string) error {
	switch k, _ := classifyName(name); k {
	case kindDump, kindManifest:
		return nil
	default:
		return fmt.Errorf("%w %q: only dumps and their manifests are stored", ErrInvalidName, name)
	}
}
