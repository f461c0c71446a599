package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"govmail/internal/address"
	"govmail/internal/store"
)

// result is the outcome of one attempt for one recipient.
type result struct {
	state     store.QueueState // QueueQueued means deferred
	reply     string           // remote reply "550 5.1.1 …" or our own reason
	status    string           // enhanced status for the DSN, e.g. "5.1.1"
	remote    string           // "mx.example.org [192.0.2.1]"
	attempted bool
	// logged: the delivery wrote its own transaction-log row (local delivery).
	logged bool
}

func deferred(status, reply string) result {
	return result{state: store.QueueQueued, status: status, reply: reply, attempted: true}
}

func failed(status, reply string) result {
	return result{state: store.QueueFailed, status: status, reply: reply, attempted: true}
}

// fromReply classifies an error of a command. A reply from the server decides
// by its code; anything else (timeout, reset) is a connection failure: deferred.
func fromReply(err error, remote string) (result, bool) {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return result{state: store.QueueQueued, status: "4.4.2", reply: "connection failed: " + err.Error(), remote: remote, attempted: true}, false
	}
	status := fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	if se.EnhancedCode == (smtp.EnhancedCode{}) || se.EnhancedCode == smtp.NoEnhancedCode {
		status = fmt.Sprintf("%d.0.0", se.Code/100)
	}
	reply := fmt.Sprintf("%d %s %s", se.Code, status, strings.ReplaceAll(se.Message, "\n", " "))
	r := result{state: store.QueueQueued, status: status, reply: reply, remote: remote, attempted: true}
	// RFC 5321 4.5.3.1.10: "too many recipients" (5.5.3) is to be retried.
	if se.Code >= 500 && status != "5.5.3" {
		r.state = store.QueueFailed
	}
	// 421 closes the connection: the session is over.
	return r, se.Code != 421
}

// runJob delivers one job's messages over as few connections as it can and
// records every outcome.
func (q *Queue) runJob(ctx context.Context, j *job) {
	results := map[int64]result{}
	bodies := map[int64][]byte{}
	var msgs []store.QueuedMessage
	for _, m := range j.msgs {
		b, err := q.store.QueueBody(ctx, m.ID)
		if err != nil {
			// Dropped meanwhile, or unreadable: leave it to its lease.
			q.log.Warn("queue body", "id", m.ID, "err", err)
			continue
		}
		bodies[m.ID] = b
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return
	}
	if j.route == routeLocal {
		q.deliverLocal(ctx, msgs, bodies, results)
		q.finish(ctx, msgs, bodies, results)
		return
	}
	rt, err := q.route(ctx, j.route)
	if err != nil {
		r := routeResult(err)
		for _, m := range msgs {
			for _, rc := range m.Recipients {
				results[rc.ID] = r
			}
		}
	} else {
		q.deliverAll(ctx, rt, msgs, bodies, results)
	}
	q.finish(ctx, msgs, bodies, results)
}

// deliverLocal hands local recipients to LocalDelivery.
func (q *Queue) deliverLocal(ctx context.Context, msgs []store.QueuedMessage, bodies map[int64][]byte, results map[int64]result) {
	for _, m := range msgs {
		for _, rc := range m.Recipients {
			if q.local == nil {
				results[rc.ID] = deferred("4.3.5", "no local delivery configured")
				continue
			}
			err := q.local.DeliverLocal(ctx, LocalMessage{From: m.From, Rcpt: rc.Address, AuthUser: m.AuthUser, ClientIP: m.ClientIP, Raw: bodies[m.ID]})
			switch {
			case err == nil:
				results[rc.ID] = result{state: store.QueueDelivered, status: "2.0.0", reply: "delivered locally", attempted: true, logged: true}
			case errors.Is(err, store.ErrNotFound):
				results[rc.ID] = failed("5.1.1", "no such local mailbox: "+err.Error())
			case errors.Is(err, store.ErrQuotaExceeded):
				results[rc.ID] = deferred("4.2.2", "mailbox full: "+err.Error())
			default:
				results[rc.ID] = deferred("4.3.0", "local delivery failed: "+err.Error())
			}
		}
	}
}

// deliverAll sends msgs in order, reconnecting when a session breaks; what a
// broken session did not reach is tried on the next connection, at most three.
func (q *Queue) deliverAll(ctx context.Context, rt *route, msgs []store.QueuedMessage, bodies map[int64][]byte, results map[int64]result) {
	i := 0
	for tries := 0; i < len(msgs) && tries < 3; tries++ {
		s, err := q.connect(ctx, rt)
		if err != nil {
			r := connectResult(err)
			for _, m := range msgs[i:] {
				for _, rc := range m.Recipients {
					results[rc.ID] = r
				}
			}
			return
		}
		alive := true
		for alive && i < len(msgs) {
			m := msgs[i]
			alive = q.sendOne(s, m, bodies[m.ID], results)
			i++
		}
		// QUIT only on a live session: a stalled peer would hold us until it answers.
		s.close(alive)
	}
	for _, m := range msgs[i:] {
		for _, rc := range m.Recipients {
			results[rc.ID] = deferred("4.4.2", "connection lost repeatedly; will retry")
		}
	}
}

// sendOne runs one transaction; it returns false when the session is no
// longer usable.
func (q *Queue) sendOne(s *session, m store.QueuedMessage, body []byte, results map[int64]result) bool {
	c := s.c
	all := func(r result) {
		for _, rc := range m.Recipients {
			if _, done := results[rc.ID]; !done {
				results[rc.ID] = r
			}
		}
	}
	if m.UTF8 {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			all(result{state: store.QueueFailed, status: "5.6.7", reply: "remote server does not support SMTPUTF8, which this message needs", remote: s.remote, attempted: true})
			return true
		}
	}
	if max, ok := c.MaxMessageSize(); ok && max > 0 && len(body) > max {
		all(result{state: store.QueueFailed, status: "5.3.4", reply: fmt.Sprintf("message of %d bytes exceeds the remote limit of %d", len(body), max), remote: s.remote, attempted: true})
		return true
	}
	opts := &smtp.MailOptions{Size: int64(len(body)), UTF8: m.UTF8, EnvelopeID: m.EnvID}
	switch strings.ToUpper(m.Ret) {
	case "FULL":
		opts.Return = smtp.DSNReturnFull
	case "HDRS":
		opts.Return = smtp.DSNReturnHeaders
	}
	if err := c.Mail(m.From, opts); err != nil {
		r, alive := fromReply(err, s.remote)
		all(r)
		if alive {
			alive = c.Reset() == nil
		}
		return alive
	}
	var accepted []int64
	for _, rc := range m.Recipients {
		if err := c.Rcpt(rc.Address, rcptOptions(rc)); err != nil {
			r, alive := fromReply(err, s.remote)
			results[rc.ID] = r
			if !alive {
				all(deferred("4.4.2", "connection lost during RCPT: "+err.Error()))
				return false
			}
			continue
		}
		accepted = append(accepted, rc.ID)
	}
	if len(accepted) == 0 {
		return c.Reset() == nil
	}
	set := func(r result) {
		for _, id := range accepted {
			results[id] = r
		}
	}
	w, err := c.Data()
	if err != nil {
		r, alive := fromReply(err, s.remote)
		set(r)
		if alive {
			alive = c.Reset() == nil
		}
		return alive
	}
	// go-smtp sets no deadline while the body is written: a peer that stops
	// reading would hold the worker for ever.
	s.conn.SetDeadline(time.Now().Add(q.cfg.DataTimeout))
	if _, err := w.Write(body); err != nil {
		set(deferred("4.4.2", "connection lost during DATA: "+err.Error()))
		return false
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		r, alive := fromReply(err, s.remote)
		set(r)
		return alive
	}
	set(result{state: store.QueueDelivered, status: "2.0.0", reply: "250 " + strings.ReplaceAll(resp.StatusText, "\n", " "), remote: s.remote, attempted: true})
	return true
}

func rcptOptions(rc store.QueueRecipient) *smtp.RcptOptions {
	var o smtp.RcptOptions
	used := false
	if rc.Notify != "" {
		for _, n := range strings.Split(strings.ToUpper(rc.Notify), ",") {
			o.Notify = append(o.Notify, smtp.DSNNotify(strings.TrimSpace(n)))
		}
		used = true
	}
	if typ, addr, ok := strings.Cut(rc.ORcpt, ";"); ok && strings.EqualFold(typ, "rfc822") {
		o.OriginalRecipientType = smtp.DSNAddressTypeRFC822
		o.OriginalRecipient = addr
		used = true
	}
	if !used {
		return nil
	}
	return &o
}

func wants(notify, what string) bool {
	if notify == "" {
		return true // RFC 3461: FAILURE by default; DELAY at the MTA's discretion, which we give
	}
	for _, n := range strings.Split(strings.ToUpper(notify), ",") {
		if strings.TrimSpace(n) == what {
			return true
		}
	}
	return false
}

// finish applies back-off, expiry and notices to the results, sends DSNs and
// records everything with one log row per recipient in one transaction.
func (q *Queue) finish(ctx context.Context, msgs []store.QueuedMessage, bodies map[int64][]byte, results map[int64]result) {
	now := q.clock.Now()
	var ups []store.QueueUpdate
	var logs []store.LogEntry
	for _, m := range msgs {
		var failedR, delayedR []dsnRecipient
		expire := m.CreatedAt.Add(q.cfg.Lifetime)
		for _, rc := range m.Recipients {
			r, ok := results[rc.ID]
			if !ok {
				r = deferred("4.3.0", "not attempted")
				r.attempted = false
			}
			up := store.QueueUpdate{RecipientID: rc.ID, State: r.state, Attempted: r.attempted, LastAttempt: now, Error: r.reply}
			if r.remote != "" {
				up.Error += " (" + r.remote + ")"
			}
			status := store.LogDelivered
			switch r.state {
			case store.QueueQueued:
				status = store.LogDeferred
				attempts := rc.Attempts
				if r.attempted {
					attempts++
				}
				if !now.Before(expire) {
					up.State, status = store.QueueFailed, store.LogBounced
					r.status = "4.4.7"
					up.Error = fmt.Sprintf("gave up after %s; last error: %s", q.cfg.Lifetime, up.Error)
				} else {
					up.NextAttempt = now.Add(q.cfg.backoff(max(attempts, 1)))
					if up.NextAttempt.After(expire) {
						// One last attempt at the end of the lifetime.
						up.NextAttempt = expire
					}
					if !rc.DelayNotified && now.Sub(m.CreatedAt) >= q.cfg.DelayNotice && m.From != "" && wants(rc.Notify, "DELAY") {
						up.DelayNotified = true
						delayedR = append(delayedR, dsnRecipient{QueueRecipient: rc, Status: r.status, Diagnostic: r.reply, Remote: r.remote, Until: expire.In(q.cfg.Location)})
					}
				}
			case store.QueueFailed:
				status = store.LogBounced
			}
			if up.State == store.QueueFailed && m.From != "" && wants(rc.Notify, "FAILURE") {
				failedR = append(failedR, dsnRecipient{QueueRecipient: rc, Status: r.status, Diagnostic: up.Error, Remote: r.remote})
			}
			ups = append(ups, up)
			if r.logged && up.State == store.QueueDelivered {
				continue // the local delivery wrote its row in its own transaction
			}
			logs = append(logs, store.LogEntry{
				Time: now, Direction: "out", Proto: "smtp", EnvelopeFrom: m.From, HeaderFrom: m.HeaderFrom,
				Recipient: rc.Address, ClientIP: m.ClientIP, Size: m.Size, MessageID: m.MessageID, AuthUser: m.AuthUser,
				Status: status, Error: up.Error,
			})
			q.log.Info("delivery attempt", "queue_id", m.ID, "rcpt", rc.Address, "status", status, "reply", up.Error)
		}
		if len(failedR) > 0 {
			q.notify(ctx, m, bodies[m.ID], failedR, false, now)
		}
		if len(delayedR) > 0 {
			q.notify(ctx, m, bodies[m.ID], delayedR, true, now)
		}
	}
	if err := q.store.RecordQueue(ctx, ups, logs); err != nil {
		// The leases run out and the recipients are tried again: a message may
		// go twice, never not at all.
		q.log.Error("queue record", "err", err)
	}
}

// notify sends a DSN to the sender of m: into a local mailbox, or queued for
// a remote sender (with an empty reverse path, so it never bounces back).
func (q *Queue) notify(ctx context.Context, m store.QueuedMessage, body []byte, rcpts []dsnRecipient, delayed bool, now time.Time) {
	d := &dsn{
		reportingMTA: q.cfg.Hostname,
		from:         q.postmaster(),
		to:           m.From,
		envID:        m.EnvID,
		arrival:      m.CreatedAt.In(q.cfg.Location),
		date:         now.In(q.cfg.Location),
		delayed:      delayed,
		rcpts:        rcpts,
		original:     body,
		full:         strings.EqualFold(m.Ret, "FULL"),
	}
	raw := d.bytes()
	if q.signer != nil {
		if signed, err := q.signer.Sign(raw); err == nil {
			raw = signed
		}
	}
	if q.isLocal(address.Domain(m.From)) {
		if q.local == nil {
			q.log.Error("dsn not delivered: no local delivery configured", "to", m.From)
			return
		}
		if err := q.local.DeliverLocal(ctx, LocalMessage{Rcpt: m.From, Raw: raw}); err != nil {
			q.log.Error("dsn not delivered", "to", m.From, "err", err)
		}
		return
	}
	qm := &store.QueuedMessage{From: "", HeaderFrom: q.postmaster(), MessageID: d.messageID, CreatedAt: now,
		Recipients: []store.QueueRecipient{{Address: m.From}}}
	if _, err := q.store.Enqueue(ctx, &store.NewMessage{Raw: raw, InternalDate: now}, qm, nil); err != nil {
		q.log.Error("dsn not queued", "to", m.From, "err", err)
		return
	}
	q.Wake()
}

func (q *Queue) postmaster() string {
	d := q.cfg.Hostname
	if len(q.cfg.Domains) > 0 {
		d = q.cfg.Domains[0]
	}
	return "mailer-daemon@" + d
}

// writeReceived prepends our trace header (RFC 5321 4.4), as delivery does for
// local mail; the message itself is not changed (N2).
func writeReceived(w *bytes.Buffer, hostname string, s *Submission, now time.Time) {
	helo := sanitize(s.ClientHelo)
	if helo == "" {
		helo = "unknown"
	}
	proto := s.Proto
	if proto == "" {
		proto = "ESMTP"
	}
	tlsInfo := ""
	if s.TLS != "" {
		tlsInfo = "\r\n\t(" + s.TLS + ")"
	}
	rcpt := ""
	if len(s.Recipients) == 1 {
		rcpt = "\r\n\tfor <" + sanitize(s.Recipients[0].Address) + ">"
	}
	fmt.Fprintf(w, "Received: from %s ([%s])\r\n\tby %s (govmail) with %s%s%s;\r\n\t%s\r\n",
		helo, s.ClientIP, hostname, proto, tlsInfo, rcpt, now.Format(time.RFC1123Z))
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x21 || r == 0x7f || r == '(' || r == ')' || r == ';' || r == '<' || r == '>' {
			return -1
		}
		return r
	}, s)
	if len(s) > 255 {
		s = s[:255]
	}
	return s
}
