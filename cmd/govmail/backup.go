package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"govmail/internal/store/sqlite"
)

// cmdBackup is `govmail backup DIR`: a consistent copy of the live data
// directory, taken while mail flows (issue 11).
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: govmail backup DIR [-data DATADIR]")
	}
	cfg, err := df.load(io.Discard)
	if err != nil {
		return err
	}
	st, err := sqlite.Backup(ctx, cfg.DataDir, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Sao lưu xong / backup done: %s — %d thư / messages, %d tệp / files (%.1f MB)\n", pos[0], st.Messages, st.Blobs, float64(st.Bytes)/(1<<20))
	return nil
}

// cmdRestore is `govmail restore BACKUP -data DIR`: a new data directory from a
// backup, checked before use. The server must not be running on DIR.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data directory to create")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: govmail restore BACKUP -data DATADIR")
	}
	st, err := sqlite.Restore(ctx, pos[0], *data)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Khôi phục xong / restored into %s: %d thư / messages; kiểm tra toàn vẹn đạt / integrity check passed\n", *data, st.Messages)
	if st.Missing > 0 {
		fmt.Fprintf(stdout, "%d thư đã bị xóa trong lúc sao lưu được bỏ qua / messages deleted during the backup were dropped\n", st.Missing)
	}
	return nil
}
