package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"govmail/internal/report"
	"govmail/internal/workdays"
)

// cmdReport is `govmail admin report` (Điều 7.3, 16.3; R7.3, R16.3): the figures
// of a month, quarter, year or any dates, for the province or one unit with its
// sub-units, as HTML, CSV or XLSX; optionally mailed.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	period := fs.String("period", "", "2026-11 (month), 2026-Q4 (quarter) or 2026 (year); default the previous month")
	from := fs.String("from", "", "first day YYYY-MM-DD (with --to)")
	to := fs.String("to", "", "last day YYYY-MM-DD, included (with --from)")
	unit := fs.String("unit", "", "a unit's local part, e.g. skhcn (with its sub-units); default the whole province")
	format := fs.String("format", "", "html, csv or xlsx (default: from the --out file name, else csv)")
	out := fs.String("out", "", "write to this file (default: standard output)")
	idle := fs.Int("idle-days", report.DefaultIdleDays, "count active accounts without a login for over this many days")
	var mailTo multiFlag
	fs.Var(&mailTo, "mail", "also mail the report, XLSX attached, to this local mailbox (repeatable)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	const use = "usage: govmail admin report [--period 2026-11|2026-Q4|2026 | --from YYYY-MM-DD --to YYYY-MM-DD] [--unit U] [--format html|csv|xlsx] [--out FILE] [--mail ADDRESS]…"
	if len(pos) > 0 {
		return errors.New(use)
	}
	loc := workdays.Location()
	var p report.Period
	switch {
	case *period != "" && (*from != "" || *to != ""):
		return errors.New("--period hoặc / or --from/--to, không dùng cả hai / not both\n" + use)
	case *period != "":
		if p, err = report.ParsePeriod(*period); err != nil {
			return err
		}
	case *from != "" || *to != "":
		f, err1 := workdays.Parse(*from)
		t, err2 := workdays.Parse(*to)
		if err1 != nil || err2 != nil {
			return errors.New("--from và / and --to: ngày dạng / dates as YYYY-MM-DD\n" + use)
		}
		if p, err = report.Between(f, t); err != nil {
			return err
		}
	}
	if *format == "" {
		switch strings.ToLower(filepath.Ext(*out)) {
		case ".html", ".htm":
			*format = report.FormatHTML
		case ".xlsx":
			*format = report.FormatXLSX
		default:
			*format = report.FormatCSV
		}
	}
	if *format != report.FormatHTML && *format != report.FormatCSV && *format != report.FormatXLSX {
		return fmt.Errorf("--format %q: html, csv hoặc / or xlsx", *format)
	}
	a, err := lifeApp(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.Store.Close()
	rs, ok := a.Store.(report.Store)
	if !ok {
		return errors.New("this store has no report queries")
	}
	if p.Key == "" {
		today := workdays.DateOf(a.Clock.Now(), loc)
		p = report.Month(today.Year(), today.Month()-1)
	}
	b := &report.Builder{Store: rs, Clock: a.Clock, IdleDays: *idle}
	r, err := b.Build(ctx, p, *unit)
	if err != nil {
		if errors.Is(err, report.ErrNoUnit) {
			return fmt.Errorf("không có đơn vị / no unit %q", *unit)
		}
		return err
	}
	if *out == "" {
		if err := report.Render(stdout, r, *format); err != nil {
			return err
		}
	} else {
		if err := writeFile(*out, func(w io.Writer) error { return report.Render(w, r, *format) }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Đã ghi báo cáo %s / report written: %s\n", r.Period.LabelVI(), *out)
	}
	if len(mailTo) > 0 {
		sent, err := report.Send(ctx, a.Deliver, rs, r, a.Cfg.Domains[0], mailTo, a.Log)
		if err != nil {
			return err
		}
		// Written to stderr when the report itself went to stdout, so that a
		// piped report stays clean.
		w := stdout
		if *out == "" {
			w = stderr
		}
		fmt.Fprintf(w, "Đã gửi báo cáo tới / report mailed to: %s\n", strings.Join(sent, ", "))
	}
	return nil
}

// writeFile writes a file whole or not at all: a half-written report must not
// be mistaken for one.
func writeFile(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
