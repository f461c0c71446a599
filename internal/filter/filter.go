// Package filter owns the content checks every message passes before it is
// stored (Điều 4): the virus scan of R4.1 (clamd), the spam score of R4.2
// (rspamd) and the prohibited-use policy of R4.2–R4.3 (contentpolicy). It
// decides; delivery applies the decision (refuse, Junk, quarantine, trace
// headers) and smtpd turns refusals into replies.
package filter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"govmail/internal/clamd"
	"govmail/internal/contentpolicy"
	"govmail/internal/rspamd"
	"govmail/internal/store"
)

// VirusError refuses an infected message (R4.1).
type VirusError struct{ Signature string }

func (e *VirusError) Error() string { return "virus found: " + e.Signature }

// SpamError refuses a message rspamd scored above the reject threshold (R4.2).
type SpamError struct{ Reason string }

func (e *SpamError) Error() string { return "spam: " + e.Reason }

// Sentinels.
var (
	// ErrScannerUnavailable defers a message: never accepted unscanned (R4.1).
	ErrScannerUnavailable = errors.New("filter: virus scanner unavailable")
	// ErrTooBigToScan refuses a message larger than the scanner takes.
	ErrTooBigToScan = errors.New("filter: message too large to scan")
	// ErrSpamDefer is rspamd asking the sender to try later.
	ErrSpamDefer = errors.New("filter: spam check asks to try later")
)

// Filter runs the checks. A nil Clamd, Spam or Policy skips that check.
type Filter struct {
	Clamd      *clamd.Client
	Spam       *rspamd.Client
	Thresholds rspamd.Thresholds
	// SpamFailOpen delivers unscored when rspamd is down (spam is no virus: a
	// missed score costs less than mail stuck for hours).
	SpamFailOpen bool
	Policy       *contentpolicy.Policy
	Logger       *slog.Logger
}

// Input is one message and its envelope.
type Input struct {
	Direction string // in, internal, out
	ClientIP  string
	Helo      string
	From      string
	Rcpts     []string
	AuthUser  string
	Raw       []byte
}

// Decision is what passed messages carry to delivery.
type Decision struct {
	Headers string // filter trace headers to prepend (N2: headers only)
	Junk    bool
	Policy  contentpolicy.Verdict
	Header  contentpolicy.Header // parsed once, for per-unit re-classification
}

// Check scans in. Refusals come back as errors: *VirusError, *SpamError,
// ErrScannerUnavailable, ErrTooBigToScan, ErrSpamDefer.
func (f *Filter) Check(ctx context.Context, in Input) (*Decision, error) {
	d := &Decision{}
	if f.Clamd != nil {
		res, err := f.Clamd.Scan(ctx, bytes.NewReader(in.Raw))
		switch {
		case errors.Is(err, clamd.ErrSizeLimit):
			return nil, ErrTooBigToScan
		case err != nil:
			f.Logger.Error("virus scanner unavailable; message deferred", "err", err)
			return nil, fmt.Errorf("%w: %w", ErrScannerUnavailable, err)
		case res.Infected:
			f.Logger.Warn("virus found", "signature", res.Signature, "from", in.From, "ip", in.ClientIP, "user", in.AuthUser)
			return nil, &VirusError{Signature: res.Signature}
		}
	}
	// Spam and the prohibited-use policy look at mail from outside only: what
	// local users send each other is their responsibility (Điều 9.3) and is
	// still virus-scanned above.
	if in.Direction != "in" {
		return d, nil
	}
	if f.Spam != nil {
		res, err := f.Spam.Check(ctx, &rspamd.Request{IP: in.ClientIP, Helo: in.Helo, From: in.From, Rcpt: in.Rcpts, User: in.AuthUser}, bytes.NewReader(in.Raw))
		switch {
		case err != nil && f.SpamFailOpen:
			f.Logger.Warn("spam check unavailable; delivered unscored", "err", err)
		case err != nil:
			return nil, fmt.Errorf("%w: %w", ErrSpamDefer, err)
		default:
			switch rspamd.Decide(res, f.Thresholds) {
			case rspamd.Reject:
				return nil, &SpamError{Reason: res.Reason()}
			case rspamd.Defer:
				return nil, ErrSpamDefer
			case rspamd.Junk:
				d.Junk = true
			}
			d.Headers += res.Headers()
		}
	}
	if f.Policy != nil {
		d.Header = f.Policy.ReadHeader(in.Raw)
		d.Policy = f.Policy.Classify(d.Header, in.From)
		d.Headers += d.Policy.HeaderField()
	}
	return d, nil
}

// ForUnit re-classifies for a recipient's unit allow-list (R4.2: per unit).
func (f *Filter) ForUnit(d *Decision, from, unit string) contentpolicy.Verdict {
	if f.Policy == nil || d.Policy.Category == contentpolicy.CategoryNone || d.Policy.Category == "" {
		return d.Policy
	}
	allow := f.Policy.UnitAllowList(unit)
	if len(allow) == 0 {
		return d.Policy
	}
	return f.Policy.ClassifyFor(d.Header, from, allow)
}

// Learner teaches rspamd from users moving mail into or out of Junk (R4.2),
// off the IMAP command's path, with a bounded queue.
type Learner struct {
	Spam   *rspamd.Client
	Logger *slog.Logger
	jobs   chan learnJob
}

type learnJob struct {
	raw  []byte
	spam bool
}

// NewLearner starts one worker until ctx ends.
func NewLearner(ctx context.Context, c *rspamd.Client, log *slog.Logger) *Learner {
	l := &Learner{Spam: c, Logger: log, jobs: make(chan learnJob, 256)}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case j := <-l.jobs:
				var err error
				if j.spam {
					err = c.LearnSpam(ctx, bytes.NewReader(j.raw))
				} else {
					err = c.LearnHam(ctx, bytes.NewReader(j.raw))
				}
				if err != nil && !errors.Is(err, rspamd.ErrAlreadyLearned) {
					log.Warn("rspamd learn", "spam", j.spam, "err", err)
				}
			}
		}
	}()
	return l
}

// Learn queues a message; when the queue is full the lesson is dropped (a
// missed lesson costs little; a blocked MOVE costs a user).
func (l *Learner) Learn(raw []byte, spam bool) {
	if l == nil {
		return
	}
	select {
	case l.jobs <- learnJob{raw: raw, spam: spam}:
	default:
		l.Logger.Warn("rspamd learn queue full; lesson dropped")
	}
}

// QuarantineFolder is the hidden folder held mail goes to (R4.2): not listed
// by IMAP or webmail; operators release from it.
const QuarantineFolder = store.HeldFolder

// IsHidden tells names users never see or create.
func IsHidden(name string) bool { return strings.HasPrefix(name, "#") }
