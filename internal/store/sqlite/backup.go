package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// BackupStats says what a backup or restore copied.
type BackupStats struct {
	Blobs    int   // blob files copied
	Bytes    int64 // bytes of blob files copied
	Missing  int   // blobs the snapshot refers to whose file was gone (deleted during the backup)
	Messages int64 // messages in the snapshot
}

// Backup takes a consistent copy of a live data directory while mail flows
// (issue 11): blob files are copied once before the database snapshot and
// again after it for those that arrived meanwhile; the database is copied with
// VACUUM INTO, one transaction's consistent view. Bodies never change once
// written (they are named by their hash), so copying a file is safe at any time.
// A blob both created and deleted during the backup can be missing; Restore
// drops the messages that refer to one, which users had deleted anyway.
func Backup(ctx context.Context, srcDir, dstDir string) (*BackupStats, error) {
	if entries, err := os.ReadDir(dstDir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("backup: %s is not empty", dstDir)
	}
	if err := os.MkdirAll(filepath.Join(dstDir, "blobs"), 0o700); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	st := &BackupStats{}
	if err := copyTree(filepath.Join(srcDir, "blobs"), filepath.Join(dstDir, "blobs"), st); err != nil {
		return nil, fmt.Errorf("backup blobs: %w", err)
	}
	// VACUUM INTO writes the copy, so this connection cannot be query_only;
	// it changes nothing in the source.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(srcDir, "govmail.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	dstDB := filepath.Join(dstDir, "govmail.db")
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dstDB); err != nil {
		return nil, fmt.Errorf("backup database: %w", err)
	}
	snap, err := sql.Open("sqlite", "file:"+dstDB+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	if err := snap.QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&st.Messages); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	rows, err := snap.QueryContext(ctx, `SELECT hash FROM blobs WHERE in_file = 1`)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		rel := blobRel(h)
		dst := filepath.Join(dstDir, "blobs", rel)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		n, err := copyFile(filepath.Join(srcDir, "blobs", rel), dst)
		if errors.Is(err, fs.ErrNotExist) {
			st.Missing++
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("backup blob: %w", err)
		}
		st.Blobs++
		st.Bytes += n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The rest of the data directory: configuration, certificates, DKIM keys.
	for _, extra := range []string{"govmail.toml", "tls", "dkim", "smime.key", "holidays.csv"} {
		src := filepath.Join(srcDir, extra)
		if fi, err := os.Stat(src); err == nil {
			if fi.IsDir() {
				if err := copyTree(src, filepath.Join(dstDir, extra), nil); err != nil {
					return nil, err
				}
			} else if _, err := copyFile(src, filepath.Join(dstDir, extra)); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

// Restore makes dataDir from a backup and checks it. Messages whose body file
// is missing (deleted while the backup ran) are removed and counted.
func Restore(ctx context.Context, backupDir, dataDir string) (*BackupStats, error) {
	if _, err := os.Stat(filepath.Join(dataDir, "govmail.db")); err == nil {
		return nil, fmt.Errorf("restore: %s already holds a database", dataDir)
	}
	st := &BackupStats{}
	if err := copyTree(backupDir, dataDir, st); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	s, err := Open(ctx, Options{Dir: dataDir})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, hash FROM blobs WHERE in_file = 1`)
	if err != nil {
		return nil, err
	}
	var gone []int64
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			rows.Close()
			return nil, err
		}
		if _, err := os.Stat(s.blobPath(h)); err != nil {
			gone = append(gone, id)
		}
	}
	rows.Close()
	for _, id := range gone {
		err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
			mrows, err := tx.Query(`SELECT mailbox_id, uid FROM messages WHERE blob_id = ?`, id)
			if err != nil {
				return err
			}
			type mu struct {
				mb  int64
				uid uint32
			}
			var ms []mu
			for mrows.Next() {
				var m mu
				mrows.Scan(&m.mb, &m.uid)
				ms = append(ms, m)
			}
			mrows.Close()
			for _, m := range ms {
				if _, err := s.expungeTx(tx, w, m.mb, []uint32{m.uid}, false); err != nil {
					return err
				}
			}
			w.deleteFiles = nil // the file is already gone
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		st.Missing++
	}
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&st.Messages); err != nil {
		return nil, err
	}
	if err := s.Check(ctx); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	return st, nil
}

func blobRel(hash []byte) string {
	h := hex.EncodeToString(hash)
	return filepath.Join(h[:2], h)
}

// copyTree copies regular files under src to dst, skipping temporary files.
func copyTree(src, dst string, st *BackupStats) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a file removed while walking
			}
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		if strings.HasPrefix(d.Name(), ".tmp-") || strings.HasSuffix(d.Name(), "-wal") || strings.HasSuffix(d.Name(), "-shm") {
			return nil
		}
		n, err := copyFile(p, filepath.Join(dst, rel))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil && st != nil {
			st.Blobs++
			st.Bytes += n
		}
		return err
	})
}

// copyFile copies and fsyncs one file.
func copyFile(src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return 0, err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}
