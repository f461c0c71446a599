package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"govmail/internal/maillog"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// cmdLogSearch is `govmail admin log search` (R11.3): filters, newest first,
// as a table or CSV.
func cmdLogSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin log search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	var f store.LogFilter
	fs.StringVar(&f.Address, "address", "", "sender or recipient")
	fs.StringVar(&f.ClientIP, "ip", "", "client IP")
	fs.StringVar(&f.Status, "status", "", "delivered, deferred, bounced, refused, quarantined")
	fs.StringVar(&f.MessageID, "message-id", "", "Message-ID, with angle brackets")
	fs.StringVar(&f.AuthUser, "user", "", "authenticated user")
	since := fs.String("since", "", "from this local date YYYY-MM-DD")
	until := fs.String("until", "", "up to and including this local date")
	fs.IntVar(&f.Limit, "limit", 1000, "at most this many rows")
	asCSV := fs.Bool("csv", false, "write CSV")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	loc := workdays.Location()
	if *since != "" {
		d, err := workdays.Parse(*since)
		if err != nil {
			return fmt.Errorf("--since: %w", err)
		}
		f.Since = d.In(loc)
	}
	if *until != "" {
		d, err := workdays.Parse(*until)
		if err != nil {
			return fmt.Errorf("--until: %w", err)
		}
		f.Until = d.AddDays(1).In(loc)
	}
	_, st, err := openStore(ctx, &df, io.Discard, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	rows, err := st.SearchLog(ctx, f)
	if err != nil {
		return err
	}
	if *asCSV {
		return maillog.WriteCSV(stdout, rows)
	}
	for _, e := range rows {
		fmt.Fprintf(stdout, "%s %-8s %-10s %-30s → %-30s %-15s %8d %-11s %s\n", e.Time.In(loc).Format(time.DateTime), e.Direction, e.Proto,
			e.EnvelopeFrom, e.Recipient, e.ClientIP, e.Size, e.Status, e.Error)
	}
	return nil
}
