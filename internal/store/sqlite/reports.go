package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"govmail/internal/store"
)

var _ store.ReportStore = (*Store)(nil)

// unitOf is the unit of the account an address belongs to, whatever happened to
// it since the row was written: its own address, an alias left by a transfer
// (R7.1), or the address it had when revoked (R7.4). NULL for an address that is
// not local. Each branch is one index lookup, so it is applied to grouped rows,
// never to raw log rows.
func unitOf(addr string) string {
	return strings.NewReplacer("{addr}", addr).Replace(`COALESCE(
	(SELECT IFNULL(unit_id, 0) FROM accounts WHERE address = {addr}),
	(SELECT IFNULL(ac.unit_id, 0) FROM aliases al JOIN accounts ac ON ac.id = al.account_id WHERE al.address = {addr}),
	(SELECT IFNULL(unit_id, 0) FROM accounts WHERE revoked_address = {addr} AND revoked_address != '' ORDER BY revoked_at DESC LIMIT 1))`)
}

// lockReason takes the reason out of an account.lock audit detail ("reason: note").
func lockReason(col string) string {
	return fmt.Sprintf(`CASE WHEN instr(%[1]s, ':') > 0 THEN substr(%[1]s, 1, instr(%[1]s, ':') - 1) ELSE %[1]s END`, col)
}

// ReportFigures runs the aggregate queries of a report. Every query groups in
// SQL; Go only files the grouped rows under their units.
func (s *Store) ReportFigures(ctx context.Context, q store.ReportQuery) (*store.ReportFigures, error) {
	out := &store.ReportFigures{Units: map[int64]*store.UnitFigures{}}
	unit := func(id int64) *store.UnitFigures {
		u := out.Units[id]
		if u == nil {
			u = &store.UnitFigures{UnitID: id, Locked: map[string]int64{}, LockedInPeriod: map[string]int64{}, Held: map[string]int64{}}
			out.Units[id] = u
		}
		return u
	}
	for _, step := range []func(context.Context, store.ReportQuery, func(int64) *store.UnitFigures) error{
		s.reportAccounts, s.reportActions, s.reportRequests, s.reportReceived, s.reportSent, s.reportHeld,
	} {
		if err := step(ctx, q, unit); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}
	mail, err := s.reportMailTotals(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	out.Mail = mail
	return out, nil
}

func (s *Store) eachRow(ctx context.Context, query string, args []any, dst func() []any, fn func()) error {
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dst()...); err != nil {
			return err
		}
		fn()
	}
	return rows.Err()
}

// reportAccounts counts accounts by their state at Until. The account row holds
// only the latest state, so for a period in the past the state is the last lock
// or restore in the audit log before Until; the row decides when the audit log
// has none (purged after R11.3's retention, or never written).
func (s *Store) reportAccounts(ctx context.Context, q store.ReportQuery, unit func(int64) *store.UnitFigures) error {
	query := `SELECT unit, st, count(*),
		sum(CASE WHEN st = 'active' AND max(
			CASE WHEN last_login_at < ?1 THEN last_login_at
				ELSE IFNULL((SELECT max(l.time) FROM auth_log l WHERE l.username = acc.address AND l.success = 1 AND l.time < ?1), 0) END,
			created_at, CASE WHEN restored_at < ?1 THEN restored_at ELSE 0 END, ?4) < ?2
			AND NOT EXISTS (SELECT 1 FROM absences b WHERE b.account_id = acc.id AND b.ends > ?3) THEN 1 ELSE 0 END),
		IFNULL(sum(CASE WHEN state != 'revoked' THEN used_bytes END), 0),
		IFNULL(sum(CASE WHEN state != 'revoked' THEN quota_bytes END), 0),
		sum(CASE WHEN state != 'revoked' AND quota_bytes > 0 AND used_bytes * 10 >= quota_bytes * 9 THEN 1 ELSE 0 END)
	FROM (SELECT IFNULL(a.unit_id, 0) AS unit, a.id, a.address, a.state, a.last_login_at, a.created_at, a.restored_at, a.used_bytes, a.quota_bytes,
		CASE WHEN a.revoked_at > 0 AND a.revoked_at < ?1 THEN 'revoked'
		ELSE COALESCE(
			(SELECT CASE WHEN l.action = 'account.lock' THEN 'locked:' || ` + lockReason("l.detail") + ` ELSE 'active' END
				FROM audit_log l WHERE l.target IN (a.address, a.revoked_address) AND l.action IN ('account.lock', 'account.restore') AND l.time < ?1
				ORDER BY l.time DESC, l.id DESC LIMIT 1),
			CASE WHEN a.locked_at > 0 AND a.locked_at < ?1 THEN 'locked:' || a.lock_reason
				WHEN a.restored_at >= ?1 THEN 'locked:'
				ELSE 'active' END)
		END AS st
		FROM accounts a WHERE a.created_at < ?1) AS acc
	GROUP BY unit, st`
	var id, n, idle, used, quota, near int64
	var st string
	return s.eachRow(ctx, query, []any{store.Micros(q.Until), store.Micros(q.IdleBefore), q.IdleAbsenceAfter, store.Micros(q.RulesInForce)},
		func() []any { return []any{&id, &st, &n, &idle, &used, &quota, &near} },
		func() {
			u := unit(id)
			switch {
			case st == "revoked":
				u.Revoked += n
			case strings.HasPrefix(st, "locked:"):
				u.Locked[strings.TrimPrefix(st, "locked:")] += n
			default:
				u.Active += n
			}
			u.Idle += idle
			u.UsedBytes += used
			u.QuotaBytes += quota
			u.NearFull += near
		})
}

// reportActions counts the account actions of the period in the audit log
// (written by directory and lifecycle under the account's address then).
func (s *Store) reportActions(ctx context.Context, q store.ReportQuery, unit func(int64) *store.UnitFigures) error {
	query := `SELECT IFNULL(` + unitOf("g.target") + `, 0), g.action, g.reason, sum(g.n) FROM (
		SELECT target, action, CASE WHEN action = 'account.lock' THEN ` + lockReason("detail") + ` ELSE '' END AS reason, count(*) AS n
		FROM audit_log WHERE time >= ?1 AND time < ?2
			AND action IN ('account.create', 'account.modify', 'account.revoke', 'account.lock', 'account.restore')
		GROUP BY 1, 2, 3) g
	GROUP BY 1, 2, 3`
	var id, n int64
	var action, reason string
	return s.eachRow(ctx, query, []any{store.Micros(q.Since), store.Micros(q.Until)},
		func() []any { return []any{&id, &action, &reason, &n} },
		func() {
			u := unit(id)
			switch action {
			case "account.create":
				u.Created += n
			case "account.modify":
				u.Modified += n
			case "account.revoke":
				u.RevokedInPeriod += n
			case "account.lock":
				u.LockedInPeriod[reason] += n
			case "account.restore":
				u.Restored += n
			}
		})
}

// reportRequests counts the requests of each requesting unit (R7.1): received
// and handled in the period, and restore requests past their deadline (R8.5).
func (s *Store) reportRequests(ctx context.Context, q store.ReportQuery, unit func(int64) *store.UnitFigures) error {
	untilDate := q.Until.In(time.FixedZone("", q.ZoneOffset)).Format(time.DateOnly)
	query := `SELECT unit_id,
		sum(received_at >= ?1),
		sum(state = 'done' AND handled_at >= ?1 AND handled_at < ?2),
		sum(state = 'rejected' AND handled_at >= ?1 AND handled_at < ?2),
		sum(deadline != '' AND deadline < ?3 AND (state = 'received' OR handled_at >= ?2)),
		sum(deadline != '' AND state != 'received' AND handled_at >= ?1 AND handled_at < ?2
			AND date(handled_at / 1000000 + ?4, 'unixepoch') > deadline)
	FROM requests WHERE received_at < ?2 AND (state = 'received' OR handled_at >= ?1 OR received_at >= ?1)
	GROUP BY unit_id`
	var id, rec, done, rej, open, late int64
	return s.eachRow(ctx, query, []any{store.Micros(q.Since), store.Micros(q.Until), untilDate, q.ZoneOffset},
		func() []any { return []any{&id, &rec, &done, &rej, &open, &late} },
		func() {
			u := unit(id)
			u.RequestsReceived += rec
			u.RequestsDone += done
			u.RequestsRejected += rej
			u.OverdueOpen += open
			u.OverdueLate += late
		})
}

// reportReceived counts mail delivered into each unit's mailboxes. Grouping by
// recipient follows translog_recipient (0006), which holds every column read,
// so no row of the period is sorted or even read from the table.
func (s *Store) reportReceived(ctx context.Context, q store.ReportQuery, unit func(int64) *store.UnitFigures) error {
	query := `SELECT u, sum(n), sum(b) FROM (
		SELECT ` + unitOf("g.rcpt") + ` AS u, g.n, g.b FROM (
			SELECT recipient AS rcpt, count(*) AS n, sum(size) AS b FROM translog INDEXED BY translog_recipient
			WHERE time >= ?1 AND time < ?2 AND direction IN ('in', 'internal') AND status = 'delivered'
			GROUP BY recipient) g)
	WHERE u IS NOT NULL GROUP BY u`
	var id, n, b int64
	return s.eachRow(ctx, query, []any{store.Micros(q.Since), store.Micros(q.Until)},
		func() []any { return []any{&id, &n, &b} },
		func() {
			u := unit(id)
			u.Received += n
			u.ReceivedBytes += b
		})
}

// reportSent counts mail sent from each unit's mailboxes by the envelope
// sender: submission only lets a person send as their own address or a unit
// mailbox they are a delegate of (R9.1, R9.2), so it names the mailbox that
// sent. Case variants group apart and meet again under their unit.
func (s *Store) reportSent(ctx context.Context, q store.ReportQuery, unit func(int64) *store.UnitFigures) error {
	query := `SELECT u, sum(n), sum(b), sum(failed) FROM (
		SELECT ` + unitOf("lower(g.f)") + ` AS u, g.n, g.b, g.failed FROM (
			SELECT envelope_from AS f, sum(status = 'delivered') AS n, sum(CASE WHEN status = 'delivered' THEN size ELSE 0 END) AS b,
				sum(status != 'delivered') AS failed
			FROM translog INDEXED BY translog_sender
			WHERE time >= ?1 AND time < ?2 AND direction IN ('out', 'internal') AND status IN ('delivered', 'bounced', 'refused')
			GROUP BY envelope_from) g)
	WHERE u IS NOT NULL GROUP BY u`
	var id, n, b, failed int64
	return s.eachRow(ctx, query, []any{store.Micros(q.Since), store.Micros(q.Until)},
		func() []any { return []any{&id, &n, &b, &failed} },
		func() {
			u := unit(id)
			u.Sent += n
			u.SentBytes += b
			u.SendFailed += failed
		})
}

// reportHeld counts refused and quarantined mail by class (Điều 4, R4.1–R4.3,
// R17.2), under the recipient's unit, else the sender's; unit 0 when neither
// is local.
func (s *Store) reportHeld(ctx context.Context, q store.ReportQuery, unit func(int64) *store.UnitFigures) error {
	query := `SELECT IFNULL(COALESCE(` + unitOf("g.r") + `, ` + unitOf("g.f") + `, ` + unitOf("g.a") + `), 0), g.cls, sum(g.n) FROM (
		SELECT recipient AS r, lower(envelope_from) AS f, lower(auth_user) AS a,
			CASE WHEN error LIKE '%virus found%' THEN 'virus'
				WHEN error LIKE '%spam%' THEN 'spam'
				WHEN error LIKE 'policy %' THEN 'policy'
				WHEN error LIKE 'held:%' THEN 'limit'
				ELSE 'other' END AS cls,
			count(*) AS n
		FROM translog WHERE time >= ?1 AND time < ?2 AND status IN ('refused', 'quarantined')
		GROUP BY 1, 2, 3, 4) g
	GROUP BY 1, 2`
	var id, n int64
	var cls string
	return s.eachRow(ctx, query, []any{store.Micros(q.Since), store.Micros(q.Until)},
		func() []any { return []any{&id, &cls, &n} },
		func() { unit(id).Held[cls] += n })
}

// logDirections and logStatuses code the known values as small integers: SQLite
// groups by sorting, and sorting integers is twice as fast as text.
var (
	logDirections = []string{"in", "out", "internal"}
	logStatuses   = []string{store.LogDelivered, store.LogDeferred, store.LogBounced, store.LogRefused, store.LogQuarantined}
)

func codeCase(col string, values []string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for i, v := range values {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", v, i)
	}
	fmt.Fprintf(&b, " ELSE %d END", len(values))
	return b.String()
}

func (s *Store) reportMailTotals(ctx context.Context, q store.ReportQuery) ([]store.MailTotal, error) {
	query := `SELECT k, count(*), IFNULL(sum(size), 0) FROM (
		SELECT ` + codeCase("direction", logDirections) + ` * 16 + ` + codeCase("status", logStatuses) + ` AS k, size
		FROM translog WHERE time >= ?1 AND time < ?2)
	GROUP BY k`
	name := func(values []string, i int64) string {
		if i < int64(len(values)) {
			return values[i]
		}
		return "other"
	}
	var out []store.MailTotal
	var k, n, b int64
	err := s.eachRow(ctx, query, []any{store.Micros(q.Since), store.Micros(q.Until)},
		func() []any { return []any{&k, &n, &b} },
		func() {
			out = append(out, store.MailTotal{Direction: name(logDirections, k/16), Status: name(logStatuses, k%16), Messages: n, Bytes: b})
		})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Direction != out[j].Direction {
			return out[i].Direction < out[j].Direction
		}
		return out[i].Status < out[j].Status
	})
	return out, err
}

// ClaimReport records a report as being sent, once.
func (s *Store) ClaimReport(ctx context.Context, key string, at time.Time) (bool, error) {
	var first bool
	err := s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		res, err := tx.Exec(`INSERT OR IGNORE INTO report_sends (key, claimed_at) VALUES (?, ?)`, key, store.Micros(at))
		if err != nil {
			return fmt.Errorf("claim report: %w", err)
		}
		n, _ := res.RowsAffected()
		first = n == 1
		return nil
	})
	return first, err
}

// ReleaseReport drops a claim.
func (s *Store) ReleaseReport(ctx context.Context, key string) error {
	return s.write(ctx, func(tx *sql.Tx, w *writeCtx) error {
		if _, err := tx.Exec(`DELETE FROM report_sends WHERE key = ?`, key); err != nil {
			return fmt.Errorf("release report: %w", err)
		}
		return nil
	})
}
