package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// encryptedDump is a gzip-compressed SQL dump with its trailer, encrypted
// to r as Run stores it, and the size of its SQL.
func encryptedDump(t *testing.T, r age.Recipient) ([]byte, int64) {
	t.Helper()
	var out bytes.Buffer
	m := &Manager{Recipients: []age.Recipient{r}}
	enc, err := m.encrypter(&out)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := newCompressor(enc, 6)
	if err != nil {
		t.Fatal(err)
	}
	raw := &countWriter{w: gz}
	for i := range 5000 {
		_, _ = raw.Write([]byte("INSERT INTO t VALUES (" + strings.Repeat("x", i%50) + ");\n"))
	}
	_, _ = raw.Write([]byte(TrailerPrefix + " on 2025-06-15\n"))
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), raw.n
}

// TestCheckEncryptedReader: checkReader hashes the stored bytes of an
// encrypted dump whatever the keys, and reads its content only with the
// right identity; damage to the ciphertext is a problem of the file.
func TestCheckEncryptedReader(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	const name = "cantina-20250615T020000Z.sql.gz.age"
	good, rawBytes := encryptedDump(t, id.Recipient())
	sum := sha256.Sum256(good)
	man := &Manifest{SHA256: hex.EncodeToString(sum[:]), CompressedBytes: int64(len(good)), RawBytes: rawBytes, Recipients: []string{id.Recipient().String()}}

	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 1
	tests := []struct {
		name    string
		file    []byte
		ids     []age.Identity
		man     *Manifest
		err     error  // wrapped by the error
		problem string // substring of a problem; "" = none
	}{
		{"good", good, []age.Identity{id}, man, nil, ""},
		{"no identity", good, nil, man, ErrNoIdentity, ""},
		{"wrong identity", good, []age.Identity{other}, man, ErrWrongIdentity, ""},
		{"no identity, damaged", flipped, nil, man, ErrNoIdentity, "checksum mismatch"},
		{"damaged ciphertext", flipped, []age.Identity{id}, nil, nil, "age-encrypted data is damaged"},
		{"truncated", good[:len(good)-100], []age.Identity{id}, nil, nil, "age-encrypted data is damaged"},
		{"not an age file", []byte("\x1f\x8b\x08\x00 plain gzip"), []age.Identity{id}, nil, nil, "age encryption header cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Manager{Identities: tt.ids}
			fc, err := m.checkReader(context.Background(), bytes.NewReader(tt.file), name, tt.man, 1<<30, true)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			fsum := sha256.Sum256(tt.file)
			if fc.SHA256 != hex.EncodeToString(fsum[:]) || fc.CompressedBytes != int64(len(tt.file)) {
				t.Errorf("hashed %s / %d bytes, want the whole stored file", fc.SHA256, fc.CompressedBytes)
			}
			got := strings.Join(fc.Problems, "; ")
			if (tt.problem == "") != (got == "") || !strings.Contains(got, tt.problem) {
				t.Errorf("problems %q, want %q", got, tt.problem)
			}
			if tt.name == "good" && (!fc.Trailer || fc.RawBytes == 0) {
				t.Errorf("content not read: %+v", fc)
			}
			if err != nil && (strings.Contains(err.Error(), id.String()) || strings.Contains(err.Error(), other.String())) {
				t.Errorf("the error shows a private key: %v", err)
			}
		})
	}
}

// TestCheckPostQuantumReader: a dump encrypted to a post-quantum hybrid
// recipient (age1pq1…) reads with its identity.
func TestCheckPostQuantumReader(t *testing.T) {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	file, raw := encryptedDump(t, id.Recipient())
	m := &Manager{Identities: []age.Identity{id}}
	fc, err := m.checkReader(context.Background(), bytes.NewReader(file), "cantina-20250615T020000Z.sql.gz.age", nil, 1<<30, true)
	if err != nil || len(fc.Problems) > 0 || !fc.Trailer || fc.RawBytes != raw {
		t.Fatalf("check: %v, %+v", err, fc)
	}
}

// TestManifestEncryptionMatchesName: a manifest's Encryption must agree
// with its dump's name, and be one this version knows.
func TestManifestEncryptionMatchesName(t *testing.T) {
	ts := time.Date(2025, 6, 15, 2, 0, 0, 0, time.UTC)
	plain := DumpName("cantina", ts)
	tests := []struct {
		name, dump, encryption, problem string
	}{
		{"plain", plain, "", ""},
		{"encrypted", plain + AgeExt, EncryptionAge, ""},
		{"encrypted name, plain manifest", plain + AgeExt, "", "does not say it is encrypted"},
		{"plain name, encrypted manifest", plain, EncryptionAge, "does not end in .age"},
		{"unknown", plain + AgeExt, "rot13", "unknown encryption"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Manifest{Format: ManifestFormat, Name: tt.dump, Database: "cantina", Engine: "fake", StartedAt: ts, FinishedAt: ts,
				RawBytes: 1, CompressedBytes: 1, SHA256: strings.Repeat("0", 64), Encryption: tt.encryption}
			err := m.Validate(tt.dump)
			if (tt.problem == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.problem)) {
				t.Fatalf("Validate: %v, want %q", err, tt.problem)
			}
		})
	}
}
