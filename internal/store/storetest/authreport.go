package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"govmail/internal/store"
)

// testAuthReports: counts add up under concurrency, a report is claimed once,
// purging drops old days only, and a received report is stored once.
func testAuthReports(t *testing.T, s store.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			key := `{"ip":"192.0.2.1"}`
			if i%4 == 0 {
				key = `{"ip":"192.0.2.2"}`
			}
			if err := s.AddAuthEvents(ctx, []store.AuthEvent{{Kind: store.ReportDMARC, Day: "2026-11-26", Domain: "example.org", Key: key, Count: 1}}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	must(t, s.AddAuthEvents(ctx, []store.AuthEvent{
		{Kind: store.ReportTLS, Day: "2026-11-26", Domain: "example.org", Key: `{}`, Count: 1},
		{Kind: store.ReportDMARC, Day: "2026-11-20", Domain: "b.example", Key: `{}`, Count: 1},
		{Kind: store.ReportDMARC, Day: "2026-11-27", Domain: "b.example", Key: `{}`, Count: 1},
		// A batch adds to what is there.
		{Kind: store.ReportDMARC, Day: "2026-11-26", Domain: "example.org", Key: `{"ip":"192.0.2.2"}`, Count: 2},
	}))
	must(t, s.AddAuthEvents(ctx, nil))
	got, err := s.AuthEventCounts(ctx, store.ReportDMARC, "2026-11-26")
	must(t, err)
	if len(got) != 2 || got[0].Key != `{"ip":"192.0.2.1"}` || got[0].Count != 15 || got[1].Count != 7 || got[0].Domain != "example.org" {
		t.Fatalf("counts = %+v, want 15 and 7", got)
	}
	days, err := s.AuthEventDays(ctx, store.ReportDMARC, "2026-11-27")
	must(t, err)
	if len(days) != 2 || days[0] != "2026-11-20" || days[1] != "2026-11-26" {
		t.Fatalf("days = %v", days)
	}
	for i, want := range []bool{true, false} {
		ok, err := s.ClaimAuthReport(ctx, store.ReportDMARC, "2026-11-26", "example.org")
		must(t, err)
		if ok != want {
			t.Fatalf("claim %d = %v, want %v", i, ok, want)
		}
	}
	if ok, _ := s.ClaimAuthReport(ctx, store.ReportTLS, "2026-11-26", "example.org"); !ok {
		t.Fatal("a TLS report is claimed apart from the DMARC one")
	}
	// A claim taken back can be claimed again (a report that could not go).
	must(t, s.UnclaimAuthReport(ctx, store.ReportTLS, "2026-11-26", "example.org"))
	if ok, _ := s.ClaimAuthReport(ctx, store.ReportTLS, "2026-11-26", "example.org"); !ok {
		t.Fatal("an unclaimed report cannot be claimed again")
	}
	n, err := s.PurgeAuthEvents(ctx, "2026-11-21")
	must(t, err)
	if n != 1 {
		t.Fatalf("purged %d rows, want 1", n)
	}
	if days, _ := s.AuthEventDays(ctx, store.ReportDMARC, "2026-12-01"); len(days) != 2 || days[0] != "2026-11-26" {
		t.Fatalf("days after purge = %v", days)
	}

	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	r := &store.ReceivedReport{Kind: store.ReportDMARC, Org: "google.com", ReportID: "123", Domain: "sonla.gov.vn",
		Begin: day, End: day.Add(24*time.Hour - time.Second), ReceivedAt: day.Add(30 * time.Hour), Total: 10, Failed: 2, Body: `{"a":"Sơn La"}`}
	must(t, s.SaveReceivedReport(ctx, r))
	if r.ID == 0 {
		t.Fatal("no id")
	}
	dup := *r
	dup.ID = 0
	if err := s.SaveReceivedReport(ctx, &dup); !errors.Is(err, store.ErrExists) {
		t.Fatalf("same report again: %v, want ErrExists", err)
	}
	tls := &store.ReceivedReport{Kind: store.ReportTLS, Org: "google.com", ReportID: "123", Domain: "sonla.gov.vn",
		Begin: day.Add(24 * time.Hour), End: day.Add(48*time.Hour - time.Second), ReceivedAt: day.Add(50 * time.Hour), Total: 5, Body: `{}`}
	must(t, s.SaveReceivedReport(ctx, tls))
	all, err := s.ReceivedReports(ctx, "", 0)
	must(t, err)
	if len(all) != 2 || all[0].ID != tls.ID || all[1].ID != r.ID {
		t.Fatalf("received = %+v, want newest period first", all)
	}
	only, _ := s.ReceivedReports(ctx, store.ReportDMARC, 10)
	if len(only) != 1 || only[0].Body != `{"a":"Sơn La"}` || !only[0].End.Equal(r.End) || only[0].Failed != 2 {
		t.Fatalf("dmarc only = %+v", only)
	}
	one, err := s.ReceivedReportByID(ctx, r.ID)
	must(t, err)
	if one.Org != "google.com" || !one.Begin.Equal(day) {
		t.Fatalf("by id = %+v", one)
	}
	if _, err := s.ReceivedReportByID(ctx, 99999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing id: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
