// Package delivery owns the path of an accepted message into local mailboxes:
// trace headers, parsing once for the index, and the one store transaction that
// writes the body, a row per recipient mailbox and a transaction-log row per
// recipient (Điều 11.1). It never talks a protocol and never decides who may send;
// smtpd and imapd call it after their own checks.
package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"govmail/internal/clock"
	"govmail/internal/contentpolicy"
	"govmail/internal/filter"
	"govmail/internal/mailparse"
	"govmail/internal/store"
	"govmail/internal/textfold"
)

// Recipient is one accepted local recipient.
type Recipient struct {
	Address   string // as given in RCPT TO
	AccountID int64
	Mailbox   string // "" for INBOX
	// QuotaChecked is set when quota was checked at RCPT time: the message is
	// then stored even if it overshoots, because it was accepted (no loss).
	QuotaChecked bool
}

// ProtoSystem marks the system's own notices (lock notices, reports, the
// vacation reply to a local user): not scanned, not answered by hooks, and
// not counted against quota warnings. Mail the queue hands back for local
// delivery (bounces, released held mail) is "local" and is scanned like any.
const ProtoSystem = "LOCAL"

// Envelope describes a transaction.
type Envelope struct {
	From       string // reverse path, "" for bounces
	Recipients []Recipient
	ClientIP   string
	ClientHelo string
	Proto      string // ESMTP, ESMTPS, ESMTPSA, UTF8SMTPS ... or ProtoSystem
	Direction  string // in, internal
	AuthUser   string
	TLS        string // e.g. "TLS1.3 TLS_AES_128_GCM_SHA256"; "" without TLS
	// Scanned says the content checks already ran on this message (smtpd scans
	// once when a message goes both out and to local mailboxes).
	Scanned bool
	// Sender, when set, is the delegate who sent as a unit mailbox: a Sender
	// header naming them is added unless the message has one (R9.2).
	Sender string
}

// Deliverer writes messages into mailboxes.
type Deliverer struct {
	Store    store.Store
	Clock    clock.Clock
	Logger   *slog.Logger
	Hostname string
	// Quota, when set, is told of usage changes and quota refusals (R11.6).
	Quota QuotaWatcher
	// Filter, when set, checks every message before it is stored (Điều 4).
	Filter *filter.Filter
	// MaxAttachment is the optional per-attachment limit of R11.5 (0: none).
	MaxAttachment int64
	// OnHeld is told of each recipient whose copy was held in quarantine, so the
	// user can be told why (R4.2).
	OnHeld func(ctx context.Context, r Recipient, v contentpolicy.Verdict)
	// AfterDeliver, when set, is told after the store committed what became of
	// each recipient, with the message as stored (trace headers included); the
	// vacation responder (internal/vacation) answers from it. It runs on the
	// SMTP reply's path, so it must hand slow work off. System notices (Proto
	// LOCAL) are never passed: nothing should answer them.
	AfterDeliver func(ctx context.Context, env *Envelope, delivered []Delivered, raw []byte)
}

// Delivered is what became of one recipient, in the order of Envelope.Recipients.
type Delivered struct {
	Recipient Recipient // Mailbox is the folder it was filed to ("" INBOX)
	Held      bool      // held in quarantine by the content policy (R4.2)
	Junk      bool      // filed to Junk by the spam check
	Err       error     // the store's refusal (quota, gone); nil when stored
}

// QuotaWatcher sends the quota warnings of R11.6 (internal/quota).
type QuotaWatcher interface {
	Check(ctx context.Context, accountID int64) error
	Refused(ctx context.Context, accountID int64) error
}

// QuotaRefused tells the watcher a message was refused for quota, off the
// SMTP reply's path.
func (d *Deliverer) QuotaRefused(accountID int64) {
	if d.Quota == nil {
		return
	}
	go func() {
		if err := d.Quota.Refused(context.Background(), accountID); err != nil {
			d.Logger.Error("quota warning", "account", accountID, "err", err)
		}
	}()
}

// quotaCheck re-reads usage of the recipients after a delivery, off the reply's
// path. System notices (Proto LOCAL) do not trigger it: they would only warn
// about themselves.
func (d *Deliverer) quotaCheck(env *Envelope, out []store.DeliveryOutcome) {
	if d.Quota == nil || env.Proto == ProtoSystem {
		return
	}
	go func() {
		ctx := context.Background()
		for i, o := range out {
			id := env.Recipients[i].AccountID
			var err error
			switch {
			case o.Err == nil:
				err = d.Quota.Check(ctx, id)
			case errors.Is(o.Err, store.ErrQuotaExceeded):
				err = d.Quota.Refused(ctx, id)
			}
			if err != nil {
				d.Logger.Error("quota warning", "account", id, "err", err)
			}
		}
	}()
}

// Result is the outcome per recipient, in the order of Envelope.Recipients.
type Result struct {
	Outcomes []store.DeliveryOutcome
	Size     int64
}

// Deliver reads the message from body and stores it for every recipient. It
// returns only after the store committed (DESIGN decision 5).
func (d *Deliverer) Deliver(ctx context.Context, env *Envelope, body io.Reader) (*Result, error) {
	now := d.Clock.Now()
	var msg bytes.Buffer
	if _, err := msg.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	var dec *filter.Decision
	if d.Filter != nil && env.Proto != ProtoSystem && !env.Scanned {
		rcpts := make([]string, len(env.Recipients))
		for i, r := range env.Recipients {
			rcpts[i] = r.Address
		}
		var err error
		dec, err = d.Filter.Check(ctx, filter.Input{Direction: env.Direction, ClientIP: env.ClientIP, Helo: env.ClientHelo,
			From: env.From, Rcpts: rcpts, AuthUser: env.AuthUser, Raw: msg.Bytes()})
		if err != nil {
			return nil, fmt.Errorf("content check: %w", err)
		}
	}
	var buf bytes.Buffer
	buf.Grow(msg.Len() + 512)
	d.writeTrace(&buf, env, now)
	if env.Sender != "" && mailparse.HeaderValue(msg.Bytes(), "Sender") == nil {
		fmt.Fprintf(&buf, "Sender: <%s>\r\n", env.Sender)
	}
	if dec != nil {
		buf.WriteString(dec.Headers)
	}
	buf.Write(msg.Bytes())
	raw := buf.Bytes()
	nm, p := Prepare(raw, now)
	if env.Proto != ProtoSystem {
		if err := checkAttachment(p, d.MaxAttachment); err != nil {
			return nil, err
		}
	}
	targets := make([]store.DeliveryTarget, len(env.Recipients))
	var held []int
	var filed []Delivered // only when AfterDeliver wants it
	for i, r := range env.Recipients {
		status, errText, create := "", "", false
		if dec != nil {
			v := dec.Policy
			if v.Category != contentpolicy.CategoryNone && v.Category != "" {
				v = d.Filter.ForUnit(dec, env.From, d.unitOf(ctx, r.AccountID))
			}
			switch {
			case v.Held():
				// R4.2, R4.3: held out of the inbox; the user is told why.
				r.Mailbox, create, status = filter.QuarantineFolder, true, store.LogQuarantined
				errText = "policy " + string(v.Category) + " " + v.Service
				held = append(held, i)
			case dec.Junk && r.Mailbox == "":
				r.Mailbox = "Junk"
			}
		}
		if d.AfterDeliver != nil {
			filed = append(filed, Delivered{Recipient: r, Held: create, Junk: r.Mailbox == "Junk"})
		}
		targets[i] = store.DeliveryTarget{
			AccountID:   r.AccountID,
			Mailbox:     r.Mailbox,
			Create:      create,
			IgnoreQuota: r.QuotaChecked,
			Log: &store.LogEntry{
				Time:         now,
				Direction:    env.Direction,
				Proto:        strings.ToLower(env.Proto),
				EnvelopeFrom: env.From,
				HeaderFrom:   p.From,
				Recipient:    r.Address,
				ClientIP:     env.ClientIP,
				Size:         int64(len(raw)),
				MessageID:    p.MessageID,
				AuthUser:     env.AuthUser,
				Status:       status,
				Error:        errText,
			},
		}
	}
	out, err := d.Store.Deliver(ctx, nm, targets)
	if err != nil {
		return nil, fmt.Errorf("deliver: %w", err)
	}
	d.quotaCheck(env, out)
	if d.OnHeld != nil {
		for _, i := range held {
			if out[i].Err == nil {
				d.OnHeld(ctx, env.Recipients[i], dec.Policy)
			}
		}
	}
	if d.AfterDeliver != nil && env.Proto != ProtoSystem {
		for i := range filed {
			filed[i].Err = out[i].Err
		}
		d.AfterDeliver(ctx, env, filed, raw)
	}
	return &Result{Outcomes: out, Size: int64(len(raw))}, nil
}

// AttachmentTooLargeError refuses a message with an attachment over the
// per-attachment limit of R11.5.
type AttachmentTooLargeError struct {
	Name        string
	Size, Limit int64
}

func (e *AttachmentTooLargeError) Error() string {
	return fmt.Sprintf("attachment %q of about %d bytes is over the limit of %d", e.Name, e.Size, e.Limit)
}

// CheckAttachments applies the per-attachment limit to a raw message; smtpd and
// the queue call it for mail that leaves without passing through Deliver.
func CheckAttachments(raw []byte, limit int64) error {
	if limit <= 0 {
		return nil
	}
	return checkAttachment(mailparse.Parse(raw), limit)
}

func checkAttachment(p *mailparse.Parsed, limit int64) error {
	if limit <= 0 {
		return nil
	}
	if a, ok := mailparse.LargestAttachment(p); ok && a.Size > limit {
		return &AttachmentTooLargeError{Name: a.Name, Size: a.Size, Limit: limit}
	}
	return nil
}

// unitOf is the local part of the recipient's top-level unit, the key of the
// per-unit allow-lists; "" when it has none. Only called when a policy matched;
// without any allow-list the unit changes nothing, so the store is not asked.
func (d *Deliverer) unitOf(ctx context.Context, accountID int64) string {
	if d.Filter == nil || d.Filter.Policy == nil || !d.Filter.Policy.HasUnitAllowLists() {
		return ""
	}
	a, err := d.Store.AccountByID(ctx, accountID)
	if err != nil || a.UnitID == 0 {
		return ""
	}
	u, err := d.Store.UnitByID(ctx, a.UnitID)
	for i := 0; err == nil && u.ParentID != 0 && i < 16; i++ {
		u, err = d.Store.UnitByID(ctx, u.ParentID)
	}
	if err != nil {
		return ""
	}
	return u.LocalPart
}

// Prepare parses raw once and builds what the store keeps beside the body: the
// envelope and structure for FETCH, and the folded text for SEARCH. Parsing never
// fails: a malformed message is stored as received with what could be read.
func Prepare(raw []byte, internalDate time.Time) (*store.NewMessage, *mailparse.Parsed) {
	p := mailparse.Parse(raw)
	meta, err := mailparse.EncodeMeta(p)
	if err != nil {
		meta = nil // FETCH falls back to parsing the body
	}
	text := textfold.Search(strings.Join([]string{p.Subject, p.From, p.To, p.Cc}, " ")) + " " + p.SearchText
	return &store.NewMessage{Raw: raw, Meta: meta, SearchText: text, InternalDate: internalDate}, p
}

// writeTrace prepends Return-Path and Received (RFC 5321 4.4). Only trace
// headers are added; the message itself is never changed (N2).
func (d *Deliverer) writeTrace(w *bytes.Buffer, env *Envelope, now time.Time) {
	fmt.Fprintf(w, "Return-Path: <%s>\r\n", env.From)
	from := env.ClientHelo
	if from == "" {
		from = "unknown"
	}
	rcpt := ""
	if len(env.Recipients) == 1 {
		rcpt = "\r\n\tfor <" + env.Recipients[0].Address + ">"
	}
	tlsInfo := ""
	if env.TLS != "" {
		tlsInfo = "\r\n\t(" + env.TLS + ")"
	}
	fmt.Fprintf(w, "Received: from %s ([%s])\r\n\tby %s (govmail) with %s%s%s;\r\n\t%s\r\n",
		sanitize(from), env.ClientIP, d.Hostname, env.Proto, tlsInfo, rcpt, now.Format(time.RFC1123Z))
}

// sanitize keeps a client-supplied HELO name from breaking the header.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x21 || r == 0x7f || r == '(' || r == ')' || r == ';' {
			return -1
		}
		return r
	}, s)
	if len(s) > 255 {
		s = s[:255]
	}
	return s
}
