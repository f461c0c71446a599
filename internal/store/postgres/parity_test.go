package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
	"govmail/internal/store/postgres"
	"govmail/internal/store/sqlite"
)

// The stores that storetest does not cover yet are held to the SQLite store:
// the same calls on both must give the same answers.

type fullStore interface {
	store.Store
	store.ReportStore
	store.OutageStore
	store.TokenStore
	store.MigrationStore
}

var pt0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600))

func bothStores(t *testing.T) (sq, pg fullStore) {
	t.Helper()
	clk := clock.NewFake(pt0)
	s, err := sqlite.Open(context.Background(), sqlite.Options{Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := postgres.Open(context.Background(), postgres.Options{DSN: cluster.Database(t), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return s, p
}

// same runs fn on both stores and fails when the results differ.
func same(t *testing.T, what string, sq, pg fullStore, fn func(s fullStore) any) {
	t.Helper()
	a, b := fn(sq), fn(pg)
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		t.Errorf("%s differs:\nsqlite   %s\npostgres %s", what, ja, jb)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	for _, e := range []error{store.ErrNotFound, store.ErrExists, store.ErrQuotaExceeded} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "error"
}

func TestReportParity(t *testing.T) {
	sq, pg := bothStores(t)
	ctx := context.Background()
	day := 24 * time.Hour
	for _, s := range []fullStore{sq, pg} {
		u1 := &store.Unit{Kind: store.UnitProvinceAgency, Name: "Sở A", Abbr: "sa", LocalPart: "sa", CreatedAt: pt0}
		must(t, s.CreateUnit(ctx, u1))
		u2 := &store.Unit{Kind: store.UnitCommune, Name: "Xã B", Abbr: "xb", LocalPart: "xb", CreatedAt: pt0}
		must(t, s.CreateUnit(ctx, u2))
		var accs []*store.Account
		for i := 0; i < 6; i++ {
			unit := u1.ID
			if i%2 == 1 {
				unit = u2.ID
			}
			a := &store.Account{Address: fmt.Sprintf("nv%d.sa@sonla.gov.vn", i), UnitID: unit, QuotaBytes: 1000, CreatedAt: pt0.Add(-100 * day)}
			must(t, s.CreateAccount(ctx, a))
			accs = append(accs, a)
		}
		must(t, s.RecordLogin(ctx, accs[0].ID, pt0.Add(-2*day)))
		must(t, s.AppendAuthLog(ctx, store.AuthLogEntry{Time: pt0.Add(-3 * day), Proto: "imap", Username: accs[1].Address, Success: true}))
		must(t, s.LockAccount(ctx, accs[2].ID, store.LockInactivity, store.LockInfo{LockedAt: pt0.Add(-5 * day), LockedBy: "system:jobs"}))
		must(t, s.AppendAudit(ctx, store.AuditEntry{Time: pt0.Add(-5 * day), Actor: "system:jobs", Action: "account.lock", Target: accs[2].Address, Detail: "inactivity: 90 days"}))
		must(t, s.AppendAudit(ctx, store.AuditEntry{Time: pt0.Add(-20 * day), Actor: "op", Action: "account.create", Target: accs[3].Address}))
		must(t, s.RevokeAccount(ctx, accs[4].ID, pt0.Add(-4*day), pt0.AddDate(1, 0, 0)))
		must(t, s.AppendAudit(ctx, store.AuditEntry{Time: pt0.Add(-4 * day), Actor: "op", Action: "account.revoke", Target: accs[4].Address}))
		must(t, s.MoveAccount(ctx, accs[5].ID, "moi.xb@sonla.gov.vn", u2.ID, pt0.AddDate(0, 6, 0)))
		must(t, s.AddAbsence(ctx, &store.Absence{AccountID: accs[3].ID, Reason: "ốm", Starts: "2026-02-01", Ends: "2026-03-20", DeclaredBy: "op", DeclaredAt: pt0}))
		out, err := s.Deliver(ctx, &store.NewMessage{Raw: []byte("Subject: x\r\n\r\n" + string(make([]byte, 950))), InternalDate: pt0},
			[]store.DeliveryTarget{{AccountID: accs[0].ID}})
		if err != nil || out[0].Err != nil {
			t.Fatal(err, out)
		}
		req := &store.Request{Kind: store.RequestRestore, UnitID: u1.ID, DocNumber: "1/CV", DocDate: "2026-02-20", ReceivedAt: pt0.Add(-10 * day),
			Deadline: "2026-02-25", State: store.RequestReceived, FiledBy: "op", Payload: "{}", Targets: []int64{accs[2].ID}}
		must(t, s.CreateRequest(ctx, req, store.RequestEvent{Time: pt0.Add(-10 * day), Actor: "op", Action: "file"}))
		req2 := &store.Request{Kind: store.RequestRestore, UnitID: u2.ID, DocNumber: "2/CV", DocDate: "2026-02-20", ReceivedAt: pt0.Add(-10 * day),
			Deadline: "2026-02-23", State: store.RequestReceived, FiledBy: "op", Payload: "{}"}
		must(t, s.CreateRequest(ctx, req2, store.RequestEvent{Time: pt0.Add(-10 * day), Actor: "op", Action: "file"}))
		req2.State, req2.HandledAt, req2.HandledBy = store.RequestDone, pt0.Add(-6*day), "op"
		must(t, s.UpdateRequest(ctx, req2, store.RequestEvent{Time: req2.HandledAt, Actor: "op", Action: "done"}))
		logs := []store.LogEntry{
			{Time: pt0.Add(-day), Direction: "in", Proto: "smtp", EnvelopeFrom: "x@example.org", Recipient: accs[0].Address, Size: 100, Status: store.LogDelivered},
			{Time: pt0.Add(-day), Direction: "in", Proto: "smtp", EnvelopeFrom: "x@example.org", Recipient: "nv5.sa@sonla.gov.vn", Size: 70, Status: store.LogDelivered},
			{Time: pt0.Add(-day), Direction: "internal", Proto: "submission", EnvelopeFrom: accs[1].Address, AuthUser: accs[1].Address, Recipient: accs[0].Address, Size: 50, Status: store.LogDelivered},
			{Time: pt0.Add(-day), Direction: "out", Proto: "smtp", EnvelopeFrom: "NV4.sa@sonla.gov.vn", Recipient: "y@example.net", Size: 30, Status: store.LogBounced},
			{Time: pt0.Add(-day), Direction: "in", Proto: "smtp", EnvelopeFrom: "v@example.org", Recipient: accs[3].Address, Status: store.LogRefused, Error: "554 5.7.1 Virus found: Eicar"},
			{Time: pt0.Add(-day), Direction: "in", Proto: "smtp", EnvelopeFrom: "s@example.org", Recipient: "nobody@example.org", Status: store.LogRefused, Error: "550 SPAM detected"},
			{Time: pt0.Add(-day), Direction: "out", Proto: "submission", EnvelopeFrom: accs[1].Address, AuthUser: accs[1].Address, Recipient: "z@example.org", Status: store.LogQuarantined, Error: "Policy match"},
			{Time: pt0.Add(-day), Direction: "out", Proto: "submission", EnvelopeFrom: accs[0].Address, Recipient: "z@example.org", Status: store.LogDeferred, Error: "held: limit"},
			{Time: pt0.Add(-40 * day), Direction: "in", Proto: "smtp", Recipient: accs[0].Address, Size: 1, Status: store.LogDelivered},
		}
		must(t, s.AppendLog(ctx, logs))
	}
	for _, period := range []struct{ since, until time.Time }{
		{pt0.Add(-30 * day), pt0},
		{pt0.Add(-30 * day), pt0.Add(-4*day - time.Hour)},
		{pt0.Add(-60 * day), pt0.Add(day)},
	} {
		q := store.ReportQuery{Since: period.since, Until: period.until, IdleBefore: period.until.Add(-90 * day / 30), IdleAbsenceAfter: "2026-03-01",
			RulesInForce: pt0.Add(-200 * day), ZoneOffset: 7 * 3600}
		same(t, fmt.Sprintf("report %v–%v", period.since, period.until), sq, pg, func(s fullStore) any {
			f, err := s.ReportFigures(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			return f
		})
	}
	same(t, "claims", sq, pg, func(s fullStore) any {
		a, _ := s.ClaimReport(ctx, "monthly:2026-02", pt0)
		b, _ := s.ClaimReport(ctx, "monthly:2026-02", pt0)
		must(t, s.ReleaseReport(ctx, "monthly:2026-02"))
		c, _ := s.ClaimReport(ctx, "monthly:2026-02", pt0)
		return []bool{a, b, c}
	})
}

func TestOutageAndTokenParity(t *testing.T) {
	sq, pg := bothStores(t)
	ctx := context.Background()
	same(t, "outages and tokens", sq, pg, func(s fullStore) any {
		var res []any
		u := &store.Account{Address: "don.vi@sonla.gov.vn", Kind: store.KindUnit, QuotaBytes: 1}
		must(t, s.CreateAccount(ctx, u))
		p := &store.Account{Address: "nguoi@sonla.gov.vn", QuotaBytes: 1}
		must(t, s.CreateAccount(ctx, p))
		o := &store.Outage{What: "Mất điện", Since: pt0, Until: pt0.Add(time.Hour), UnitIDs: []int64{3, 1, 3}, Recipients: []int64{u.ID}, PublishedBy: "op", PublishedAt: pt0}
		must(t, s.CreateOutage(ctx, o))
		o2 := &store.Outage{What: "Bảo trì", Since: pt0, Until: pt0.Add(time.Hour), PublishedBy: "op", PublishedAt: pt0.Add(time.Minute)}
		must(t, s.CreateOutage(ctx, o2))
		res = append(res, errText(s.CloseOutage(ctx, o.ID, "op", pt0.Add(time.Hour), "xong")), errText(s.CloseOutage(ctx, o.ID, "op", pt0, "")))
		open, _ := s.ListOutages(ctx, true)
		all, _ := s.ListOutages(ctx, false)
		one, _ := s.OutageByID(ctx, o.ID)
		_, err := s.OutageByID(ctx, 999)
		units, _ := s.UnitMailboxes(ctx)
		res = append(res, open, all, one, errText(err), units)
		tok := &store.APIToken{AccountID: p.ID, Name: "QLVB", Hash: "abc", Prefix: "gm_a", Scopes: []string{"mail.send", "dir.read"}, CreatedBy: "op", CreatedAt: pt0}
		must(t, s.CreateAPIToken(ctx, tok))
		res = append(res, errText(s.CreateAPIToken(ctx, &store.APIToken{AccountID: p.ID, Hash: "abc", CreatedAt: pt0})))
		must(t, s.TouchAPIToken(ctx, tok.ID, pt0.Add(time.Minute)))
		res = append(res, errText(s.RevokeAPIToken(ctx, tok.ID, pt0.Add(time.Hour))), errText(s.RevokeAPIToken(ctx, tok.ID, pt0.Add(time.Hour))))
		byHash, _ := s.APITokenByHash(ctx, "abc")
		byID, _ := s.APITokenByID(ctx, tok.ID)
		list, _ := s.APITokens(ctx, 0)
		mine, _ := s.APITokens(ctx, u.ID)
		_, err = s.APITokenByHash(ctx, "nope")
		return append(res, byHash, byID, list, mine, errText(err))
	})
}

func TestImportParity(t *testing.T) {
	sq, pg := bothStores(t)
	ctx := context.Background()
	msg := func(i int) *store.NewMessage {
		return &store.NewMessage{Raw: fmt.Appendf(nil, "Subject: cũ %d\r\n\r\nthư %d\r\n", i, i), SearchText: fmt.Sprint("thu ", i), InternalDate: pt0}
	}
	same(t, "import", sq, pg, func(s fullStore) any {
		var res []any
		a := &store.Account{Address: "nhap@sonla.gov.vn", QuotaBytes: 200}
		must(t, s.CreateAccount(ctx, a))
		in, _ := s.MailboxByName(ctx, a.ID, "INBOX")
		f := &store.ImportFolder{AccountID: a.ID, Source: "imap:old:993", Folder: "INBOX", MailboxID: in.ID, UIDValidity: 7, UIDNext: 10}
		must(t, s.SaveImportFolder(ctx, f))
		var batch []store.ImportMessage
		for i := 1; i <= 5; i++ {
			batch = append(batch, store.ImportMessage{SrcUID: uint32(i * 2), Msg: msg(i), Flags: []string{`\Seen`}})
		}
		out, err := s.AppendImported(ctx, f.ID, batch)
		res = append(res, out, errText(err))
		out, err = s.AppendImported(ctx, f.ID, batch[:2])
		res = append(res, out, errText(err))
		uids, _ := s.ImportedUIDs(ctx, f.ID, 7, 0, 100)
		n, _ := s.CountImported(ctx, f.ID, 7)
		res = append(res, uids, n)
		// An older copy of the state does not take LastUID back.
		f.LastUID = 1
		must(t, s.SaveImportFolder(ctx, f))
		res = append(res, f.LastUID)
		// The source renumbered its folder: same bytes take over the old copies.
		f.UIDValidity, f.LastUID = 8, 0
		must(t, s.SaveImportFolder(ctx, f))
		out, err = s.AppendImported(ctx, f.ID, []store.ImportMessage{{SrcUID: 1, Msg: msg(1), Flags: []string{`\Flagged`}}, {SrcUID: 2, Msg: msg(9)}})
		res = append(res, out, errText(err))
		k, err := s.ForgetImported(ctx, f.ID, 8, []uint32{2}, true)
		res = append(res, k, errText(err))
		k, err = s.DropImportOrphans(ctx, f.ID, true)
		res = append(res, k, errText(err))
		msgs, ms, _ := s.Messages(ctx, in.ID, false)
		for i := range msgs {
			msgs[i].BlobID, msgs[i].InternalDate = 0, time.Time{}
		}
		res = append(res, msgs, ms)
		got, _ := s.ImportFolder(ctx, a.ID, "imap:old:993", "INBOX")
		list, _ := s.ImportFolders(ctx, a.ID, "imap:old:993")
		k, err = s.DeleteImportFolder(ctx, f.ID, true)
		_, nf := s.ImportFolder(ctx, a.ID, "imap:old:993", "INBOX")
		acc, _ := s.AccountByID(ctx, a.ID)
		if err := s.Check(ctx); err != nil {
			t.Error(err)
		}
		return append(res, got, list, k, errText(err), errText(nf), acc.UsedBytes)
	})
}
