package store

import (
	"context"
	"time"
)

// Kinds of authentication report (issue 5, part 4).
const (
	ReportDMARC = "dmarc" // DMARC aggregate (RFC 7489 7.2)
	ReportTLS   = "tls"   // SMTP TLS reporting (RFC 8460)
)

// AuthEvent is a number of identical outcomes to add to a day's count.
type AuthEvent struct {
	Kind, Day, Domain, Key string
	Count                  int64
}

// AuthEventCount is one counted row of a day's report: how many times the
// same outcome (Key, a JSON document owned by internal/authreport) was seen
// for Domain on that UTC day.
type AuthEventCount struct {
	Domain string
	Key    string
	Count  int64
}

// ReceivedReport is a report another operator sent us, parsed.
type ReceivedReport struct {
	ID         int64
	Kind       string // ReportDMARC or ReportTLS
	Org        string // the reporting organisation
	ReportID   string // its id for the report; (Kind, Org, ReportID) is unique
	Domain     string // our domain the report is about
	Begin, End time.Time
	ReceivedAt time.Time
	Total      int64  // messages (DMARC) or sessions (TLS) reported
	Failed     int64  // of which failed DMARC or TLS
	Body       string // the report, normalised to JSON by internal/authreport
}

// AuthReportStore keeps the counts our own reports are built from and the
// reports others sent us. Days are UTC dates "2006-01-02", as both RFCs count
// in UTC days.
type AuthReportStore interface {
	// AddAuthEvents adds each event's Count to the count of its (Kind, Day,
	// Domain, Key), in one transaction; nodes add into the same rows.
	AddAuthEvents(ctx context.Context, events []AuthEvent) error
	// AuthEventCounts lists the counts of a day, ordered by domain and key.
	AuthEventCounts(ctx context.Context, kind, day string) ([]AuthEventCount, error)
	// AuthEventDays lists the days before before that have counts, oldest first.
	AuthEventDays(ctx context.Context, kind, before string) ([]string, error)
	// ClaimAuthReport records that the report of (kind, day, domain) is being
	// sent; false when it was claimed before (by this node or another).
	ClaimAuthReport(ctx context.Context, kind, day, domain string) (bool, error)
	// UnclaimAuthReport takes a claim back when the report could not be
	// handed on at all, so that the next run sends it.
	UnclaimAuthReport(ctx context.Context, kind, day, domain string) error
	// PurgeAuthEvents deletes counts and claims of days before before.
	PurgeAuthEvents(ctx context.Context, before string) (int64, error)
	// SaveReceivedReport stores a parsed report and fills ID; ErrExists when
	// the same report (Kind, Org, ReportID) was stored before.
	SaveReceivedReport(ctx context.Context, r *ReceivedReport) error
	// ReceivedReports lists reports of kind ("" every kind), newest period first.
	ReceivedReports(ctx context.Context, kind string, limit int) ([]ReceivedReport, error)
	// ReceivedReportByID reads one report; ErrNotFound when there is none.
	ReceivedReportByID(ctx context.Context, id int64) (*ReceivedReport, error)
}
