package main

import (
	"context"
	"flag"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	return bench.Run(ctx, bench.Options{Binary: bin, Quick: *quick, Runs: *runs, Mailbox: *mbox, IdleConn: *idle, Stderr: stderr}, stdout)
}
