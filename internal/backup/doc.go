// Package backup makes, stores, lists, prunes, verifies and restores the
// backups of the POS database. It is the orchestration core behind
// `cantina-ops backup …` and the backup:* tasks; the dump itself comes
// from an Engine (package native, or package mysqldump running the binary)
// and the restore's SQL runs through package sqlload.
//
// A backup is the product, so:
//
//   - A backup is two files in a Storage (DirStorage on BACKUP_DIR):
//     <db>-<YYYYMMDDTHHMMSSZ>.sql.gz, which the standard client loads
//     (`gunzip -c FILE | mysql DB`), and <that name>.json, its Manifest
//     (sizes, sha256, per-table rows and checksums, engine and versions).
//   - With Manager.Recipients (BACKUP_AGE_RECIPIENTS) the gzip stream is
//     encrypted with age before it is hashed and stored, as
//     <db>-<…>.sql.gz.age (`age -d -i KEY FILE | gunzip | mysql DB`); the
//     manifest's sha256 is the stored file's, checked without any key;
//     Verify and Restore decrypt with Manager.Identities (crypt.go).
//   - Nothing partial ever carries a final name: files are written under a
//     temporary name, fsynced and renamed. The manifest is committed only
//     after the dump, so a backup is good exactly when its manifest exists
//     and is valid; a dump without one is partial and never counts.
//   - Manager.Run holds a MySQL named lock per database for the whole dump:
//     never two dumps of one database at once, from the worker, the CLI or
//     another host, and no dependency on Redis. Any failure (engine, full
//     disk, timeout) removes the temporary file and touches nothing else.
//   - Retention is a pure function (Plan) over the storage's listing:
//     backups older than the retention go, but the newest KeepMin good ones
//     of each database always stay; leftovers of interrupted backups go
//     after a grace period. Manager.Cleanup lists, plans, then deletes.
//   - A backup is good only while its file is the one whose sha256 was
//     last read back and matched (Manifest.Verified: at creation, by a
//     verify, by a cleanup); a file modified since is unverified, one that
//     did not match corrupt (verified.go). Retention counts only good
//     backups, and reads the kept ones again before it deletes a good one.
//   - Manager.Verify re-reads a backup end to end (sha256, the whole gzip
//     stream, the SQL trailer), records the outcome in the manifest and,
//     as a drill, restores it into a scratch database
//     cantina_drill_<db>_<time>_<random> (leftovers of a killed worker are
//     dropped by the next drill or cleanup) and compares every table with
//     the manifest.
//   - Manager.Restore refuses system schemas, accepts only our file names
//     inside the storage, opens the file once, checks that handle (inflation
//     bounded by the manifest's raw size) and loads the same one into a
//     database it creates if needed, after RestoreOptions.Confirm has seen
//     the plan. An account without SUPER or SET USER gets every DEFINER
//     rewritten to itself, and each object is listed (definers.go). A
//     native dump loads on RESTORE_THREADS connections at once, tables'
//     rows first and their indexes after (load.go, sqlload.ParallelOptions);
//     a restore that did not finish is replaced by the next one.
package backup
