// Package maillog owns the keeping of the logs of Điều 11.1 (R11.1–R11.3): how
// long they are kept, their purge, and their export for operators. The rows
// themselves are written by delivery, smtpd and auth through the store.
package maillog

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// MinRetentionMonths is the regulation's floor (Điều 11.1).
const MinRetentionMonths = 6

// Retention purges log rows past their keeping period.
type Retention struct {
	Store  store.Store
	Clock  clock.Clock
	Months int // at least MinRetentionMonths
	Batch  int
	Logger *slog.Logger
}

// Cutoff is the first instant still kept today: an entry dated D is purged only
// from the day after C2(D, months) (R11.3), so everything dated on or before
// MonthPeriodCutoff(today) may go.
func (r *Retention) Cutoff() time.Time {
	loc := workdays.Location()
	months := max(r.Months, MinRetentionMonths)
	today := workdays.DateOf(r.Clock.Now(), loc)
	return workdays.MonthPeriodCutoff(today, months).AddDays(1).In(loc)
}

// Purge deletes old rows in batches, so deliveries keep flowing between them.
func (r *Retention) Purge(ctx context.Context) (int, error) {
	cutoff := r.Cutoff()
	batch := r.Batch
	if batch <= 0 {
		batch = 5000
	}
	total := 0
	for {
		n, err := r.Store.PurgeLogs(ctx, cutoff, batch)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 || ctx.Err() != nil {
			break
		}
	}
	if r.Logger != nil {
		r.Logger.Info("log retention", "cutoff", cutoff.Format(time.RFC3339), "purged", total)
	}
	return total, nil
}

// WriteCSV exports transaction-log rows (UTF-8, with a header row) for operators
// and as evidence (R11.3, R14.5).
func WriteCSV(w io.Writer, rows []store.LogEntry) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"time", "direction", "proto", "envelope_from", "header_from", "recipient", "client_ip", "size", "message_id", "auth_user", "status", "error"})
	for _, e := range rows {
		cw.Write([]string{e.Time.Format(time.RFC3339), e.Direction, e.Proto, e.EnvelopeFrom, e.HeaderFrom, e.Recipient, e.ClientIP,
			strconv.FormatInt(e.Size, 10), e.MessageID, e.AuthUser, e.Status, e.Error})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("log CSV: %w", err)
	}
	return nil
}

// Describe says in the audit log what a search of the log asked for (R14.5).
func Describe(f store.LogFilter) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("address", f.Address)
	add("user", f.AuthUser)
	add("ip", f.ClientIP)
	add("status", f.Status)
	add("message_id", f.MessageID)
	if !f.Since.IsZero() {
		add("since", f.Since.Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		add("until", f.Until.Format(time.RFC3339))
	}
	if f.BeforeID != 0 {
		add("before_id", strconv.FormatInt(f.BeforeID, 10))
	}
	return strings.Join(parts, " ")
}

// Target is what an audit entry of a log search is about: the address, user or
// IP searched for, or "*".
func Target(f store.LogFilter) string {
	switch {
	case f.Address != "":
		return f.Address
	case f.AuthUser != "":
		return f.AuthUser
	case f.ClientIP != "":
		return f.ClientIP
	}
	return "*"
}
