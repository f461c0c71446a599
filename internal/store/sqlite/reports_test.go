package sqlite

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"testing"
	"time"

	"govmail/internal/store"
)

// seedScale fills a store like a province: 100 units, 10,000 accounts, 1,000,000
// transaction-log rows over the first half of 2026, with audit, auth and
// request rows to match. It writes with SQL directly: going through the
// services would take hours and measure them, not the report. It runs no
// ANALYZE: a production database has none either, so the plans are the ones
// SQLite picks there.
func seedScale(t testing.TB, s *Store, accounts, logRows int) {
	t.Helper()
	ict := time.FixedZone("ICT", 7*3600)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, ict).UnixMicro()
	span := time.Date(2026, 7, 1, 0, 0, 0, 0, ict).UnixMicro() - start
	p := func(n int) string { return strconv.Itoa(n) }
	steps := []string{
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100)
		INSERT INTO units (parent_id, kind, name, name_folded, abbr, local_part, created_at)
		SELECT CASE WHEN i > 90 THEN i - 90 END, CASE WHEN i > 90 THEN 'sub_unit' WHEN i <= 15 THEN 'province_agency' ELSE 'commune' END,
			'Đơn vị ' || i, 'don vi ' || i, 'u' || i, 'u' || i, 0 FROM c`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ` + p(accounts) + `)
		INSERT INTO accounts (address, display_name, kind, unit_id, state, lock_reason, created_at, last_login_at, quota_bytes, used_bytes,
			locked_at, restored_at, revoked_at, revoked_address)
		SELECT CASE WHEN i % 50 = 0 THEN 'p' || i || '@sonla.gov.vn#revoked-' || i ELSE 'p' || i || '@sonla.gov.vn' END,
			'Người ' || i, CASE WHEN i % 100 = 1 THEN 'unit' ELSE 'personal' END, 1 + i % 100,
			CASE WHEN i % 50 = 0 THEN 'revoked' WHEN i % 25 = 0 THEN 'locked' ELSE 'active' END,
			CASE WHEN i % 25 = 0 AND i % 50 != 0 THEN 'inactivity' ELSE '' END,
			` + p(int(start)) + ` - 86400000000 * 30 + abs(random()) % ` + p(int(span)) + `,
			` + p(int(start)) + ` + abs(random()) % ` + p(int(span)) + `,
			2147483648, abs(random()) % 2147483648,
			CASE WHEN i % 25 = 0 THEN ` + p(int(start)) + ` + abs(random()) % ` + p(int(span)) + ` ELSE 0 END, 0,
			CASE WHEN i % 50 = 0 THEN ` + p(int(start)) + ` + abs(random()) % ` + p(int(span)) + ` ELSE 0 END,
			CASE WHEN i % 50 = 0 THEN 'p' || i || '@sonla.gov.vn' ELSE '' END
		FROM c`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 30000)
		INSERT INTO audit_log (time, time_offset, actor, action, target, detail)
		SELECT ` + p(int(start)) + ` + abs(random()) % ` + p(int(span)) + `, 25200, 'op@sonla.gov.vn',
			CASE i % 6 WHEN 0 THEN 'account.create' WHEN 1 THEN 'account.modify' WHEN 2 THEN 'account.lock' WHEN 3 THEN 'account.restore'
				WHEN 4 THEN 'account.revoke' ELSE 'request.file' END,
			'p' || (1 + abs(random()) % ` + p(accounts) + `) || '@sonla.gov.vn',
			CASE i % 6 WHEN 2 THEN 'inactivity: last login' ELSE '' END FROM c`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200000)
		INSERT INTO auth_log (time, time_offset, proto, username, ip, success, reason)
		SELECT ` + p(int(start)) + ` + abs(random()) % ` + p(int(span)) + `, 25200, 'imap',
			'p' || (1 + abs(random()) % ` + p(accounts) + `) || '@sonla.gov.vn', '10.0.0.1', i % 10 != 0, '' FROM c`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)
		INSERT INTO requests (kind, unit_id, doc_number, doc_date, received_at, deadline, state, filed_by, handled_at, payload)
		SELECT CASE i % 4 WHEN 0 THEN 'restore' WHEN 1 THEN 'create' WHEN 2 THEN 'modify' ELSE 'revoke' END, 1 + i % 100, i || '/VP', '2026-01-01',
			` + p(int(start)) + ` + abs(random()) % ` + p(int(span)) + `, CASE WHEN i % 4 = 0 THEN '2026-03-1' || (i % 10) ELSE '' END,
			CASE WHEN i % 7 = 0 THEN 'received' WHEN i % 7 = 1 THEN 'rejected' ELSE 'done' END, 'm', 0, '{}' FROM c`,
		`UPDATE requests SET handled_at = received_at + abs(random()) % 864000000000 WHERE state != 'received'`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ` + p(logRows) + `)
		INSERT INTO translog (time, time_offset, direction, proto, envelope_from, header_from, recipient, client_ip, size, message_id, auth_user, status, error)
		SELECT ` + p(int(start)) + ` + (i * ` + p(int(span)/logRows) + `), 25200,
			CASE i % 3 WHEN 0 THEN 'in' WHEN 1 THEN 'internal' ELSE 'out' END, 'esmtps',
			CASE i % 3 WHEN 0 THEN 'sender' || (i % 5000) || '@example.com' ELSE 'p' || (1 + abs(random()) % ` + p(accounts) + `) || '@sonla.gov.vn' END, '',
			CASE i % 3 WHEN 2 THEN 'rcpt' || (i % 20000) || '@example.org' ELSE 'p' || (1 + abs(random()) % ` + p(accounts) + `) || '@sonla.gov.vn' END,
			'192.0.2.1', 1000 + abs(random()) % 200000, '<' || i || '@x>',
			CASE i % 3 WHEN 0 THEN '' ELSE 'p' || (1 + i % ` + p(accounts) + `) || '@sonla.gov.vn' END,
			CASE WHEN i % 97 = 0 THEN 'refused' WHEN i % 89 = 0 THEN 'quarantined' WHEN i % 31 = 0 THEN 'deferred' WHEN i % 53 = 0 THEN 'bounced' ELSE 'delivered' END,
			CASE WHEN i % 97 = 0 AND i % 2 = 0 THEN '554 5.7.1 Virus found: Eicar' WHEN i % 97 = 0 THEN '554 5.7.1 Message refused as spam: x'
				WHEN i % 89 = 0 THEN 'policy bulk x' ELSE '' END
		FROM c`,
	}
	for _, q := range steps {
		if err := s.write(context.Background(), func(tx *sql.Tx, w *writeCtx) error {
			_, err := tx.Exec(q)
			return err
		}); err != nil {
			t.Fatalf("seed: %v\n%s", err, q)
		}
	}
}

// R7.3: a province of 10,000 accounts and 1,000,000 log rows reports in
// seconds. Set GOVMAIL_SCALE_ROWS to try another size.
func TestReportScale_R7_3(t *testing.T) {
	// A measurement, not a check of speed (speed is never asserted in tests):
	// it runs on demand, GOVMAIL_LONG=1 or GOVMAIL_SCALE_ROWS=N.
	if testing.Short() || (os.Getenv("GOVMAIL_LONG") == "" && os.Getenv("GOVMAIL_SCALE_ROWS") == "") {
		t.Skip("seeds a large database: set GOVMAIL_LONG=1 or GOVMAIL_SCALE_ROWS")
	}
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("GOVMAIL_SCALE_ROWS")); err == nil && v > 0 {
		rows = v
	}
	ctx := context.Background()
	s, err := Open(ctx, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Now()
	seedScale(t, s, 10_000, rows)
	t.Logf("seeded 10,000 accounts and %d log rows in %v", rows, time.Since(t0).Round(time.Millisecond))
	ict := time.FixedZone("ICT", 7*3600)
	for _, c := range []struct {
		name         string
		since, until time.Time
	}{
		{"month 2026-03", time.Date(2026, 3, 1, 0, 0, 0, 0, ict), time.Date(2026, 4, 1, 0, 0, 0, 0, ict)},
		{"year 2026 (every row)", time.Date(2026, 1, 1, 0, 0, 0, 0, ict), time.Date(2027, 1, 1, 0, 0, 0, 0, ict)},
	} {
		q := store.ReportQuery{Since: c.since, Until: c.until, IdleBefore: c.until.AddDate(0, 0, -60), IdleAbsenceAfter: c.until.AddDate(0, 0, -61).Format(time.DateOnly),
			RulesInForce: time.Date(2025, 11, 20, 0, 0, 0, 0, ict), ZoneOffset: 7 * 3600}
		t0 := time.Now()
		f, err := s.ReportFigures(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		d := time.Since(t0)
		var accounts, received, held int64
		for _, u := range f.Units {
			accounts += u.Active + u.Revoked
			for _, n := range u.Locked {
				accounts += n
			}
			received += u.Received
			for _, n := range u.Held {
				held += n
			}
		}
		var logged int64
		for _, m := range f.Mail {
			logged += m.Messages
		}
		t.Logf("%s: %v (%d units, %d accounts, %d log rows, %d received, %d held)", c.name, d.Round(time.Millisecond), len(f.Units), accounts, logged, received, held)
		if accounts == 0 || logged == 0 || received == 0 || held == 0 {
			t.Errorf("%s: empty figures", c.name)
		}
	}
}
