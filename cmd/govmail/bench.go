package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"govmail/internal/bench"
)

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "small counts (a smoke run)")
	runs := fs.Int("runs", 3, "repetitions per figure (median reported)")
	mbox := fs.Int("mailbox", 10000, "messages in the FETCH/SEARCH mailbox")
	idle := fs.Int("idle", 1000, "IMAP connections held in IDLE for the memory figure")
	dsn := fs.String("pg", "", "run the servers on this PostgreSQL database (an empty one) instead of SQLite")
	nodes := fs.Int("nodes", 1, "with -pg: how many govmail nodes share the database")
	load := fs.Duration("load", 0, "instead: run the load test (16 SMTP connections, 200 IMAP sessions) for this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	if *load > 0 {
		res, err := bench.Load(ctx, bench.LoadOptions{Binary: bin, Duration: *load, Stderr: stderr}, stdout)
		if err != nil {
			return err
		}
		if res.SMTPErrors+res.IMAPErrors > 0 {
			return fmt.Errorf("load test: %d SMTP and %d IMAP errors", res.SMTPErrors, res.IMAPErrors)
		}
		return nil
	}
	return bench.Run(ctx, bench.Options{Binary: bin, Quick: *quick, Runs: *runs, Mailbox: *mbox, IdleConn: *idle, Stderr: stderr, DSN: *dsn, Nodes: *nodes}, stdout)
}
