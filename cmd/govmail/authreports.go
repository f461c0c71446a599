package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"govmail/internal/authreport"
	"govmail/internal/store"
)

const authReportsUsage = "usage: govmail admin authreports list [--kind dmarc|tls] [--limit N] | show ID | send"

// cmdAuthReports is `govmail admin authreports …`: the DMARC aggregate and
// TLS reports other operators sent us, and sending ours now (issue 5).
func cmdAuthReports(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(authReportsUsage)
	}
	fs := flag.NewFlagSet("admin authreports", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	kind := fs.String("kind", "", "dmarc or tls (default both)")
	limit := fs.Int("limit", 50, "how many reports to list")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if *kind != "" && *kind != store.ReportDMARC && *kind != store.ReportTLS {
		return fmt.Errorf("--kind %q: dmarc or tls", *kind)
	}
	a, err := lifeApp(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.Store.Close()
	switch args[0] {
	case "list":
		rs, err := a.Store.ReceivedReports(ctx, *kind, *limit)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			fmt.Fprintln(stdout, "Chưa nhận báo cáo nào / no reports received")
			return nil
		}
		fmt.Fprintf(stdout, "%-6s %-5s %-10s %-24s %-20s %8s %8s\n", "ID", "KIND", "DAY", "FROM", "DOMAIN", "TOTAL", "FAILED")
		for _, r := range rs {
			fmt.Fprintf(stdout, "%-6d %-5s %-10s %-24s %-20s %8d %8d\n", r.ID, r.Kind, r.Begin.UTC().Format("2006-01-02"), r.Org, r.Domain, r.Total, r.Failed)
		}
		return nil
	case "show":
		if len(pos) != 1 {
			return errors.New("usage: govmail admin authreports show ID")
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil {
			return fmt.Errorf("ID %q is not a number", pos[0])
		}
		r, err := a.Store.ReceivedReportByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("không có báo cáo %d / no report %d", id, id)
		}
		if err != nil {
			return err
		}
		lines, err := authreport.Lines(r)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s report %q from %s about %s\n%s – %s (UTC)\n%d total, %d failed\n\n",
			r.Kind, r.ReportID, r.Org, r.Domain, r.Begin.UTC().Format("2006-01-02 15:04"), r.End.UTC().Format("2006-01-02 15:04"), r.Total, r.Failed)
		for _, l := range lines {
			mark := "FAIL"
			if l.OK {
				mark = "ok  "
			}
			fmt.Fprintf(stdout, "%s %8d  %-40s %s\n", mark, l.Count, l.Source, l.Result)
			if l.Detail != "" {
				fmt.Fprintf(stdout, "                %s\n", l.Detail)
			}
		}
		return nil
	case "send":
		sent, err := a.AuthReports.Run(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sent %d reports; %d domains publish no destination; %d failed\n", sent.Reports, sent.NoReport, sent.Failed)
		return nil
	}
	return fmt.Errorf("unknown authreports command %q; %s", args[0], authReportsUsage)
}
