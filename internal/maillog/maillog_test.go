package maillog

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
	"govmail/internal/store/sqlite"
)

// R11.3 with the C2 vector: an entry of 2026-08-31 is kept through 2027-02-28
// and purged from 2027-03-01; a younger one stays.
func TestRetentionR11_3(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	clk := clock.NewFake(time.Date(2027, 2, 28, 23, 0, 0, 0, ict))
	st, err := sqlite.Open(context.Background(), sqlite.Options{Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	old := store.LogEntry{Time: time.Date(2026, 8, 31, 23, 59, 0, 0, ict), Direction: "in", Recipient: "a@sonla.gov.vn", Status: store.LogDelivered}
	young := store.LogEntry{Time: time.Date(2026, 9, 1, 0, 1, 0, 0, ict), Direction: "in", Recipient: "b@sonla.gov.vn", Status: store.LogDelivered}
	if err := st.AppendLog(ctx, []store.LogEntry{old, young}); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendAudit(ctx, store.AuditEntry{Time: old.Time, Actor: "op", Action: "x", Target: "t"}); err != nil {
		t.Fatal(err)
	}
	r := &Retention{Store: st, Clock: clk, Months: 6}
	if n, err := r.Purge(ctx); n != 0 || err != nil {
		t.Fatalf("purged %d on 2027-02-28: %v", n, err)
	}
	clk.Set(time.Date(2027, 3, 1, 0, 30, 0, 0, ict))
	if n, err := r.Purge(ctx); n != 2 || err != nil {
		t.Fatalf("purged %d on 2027-03-01, want the log row and the audit row: %v", n, err)
	}
	rows, _ := st.SearchLog(ctx, store.LogFilter{})
	if len(rows) != 1 || rows[0].Recipient != "b@sonla.gov.vn" {
		t.Fatalf("kept: %+v", rows)
	}
	// A configured retention below 6 months still keeps 6 (the floor).
	r.Months = 1
	if n, err := r.Purge(ctx); n != 0 || err != nil {
		t.Fatalf("retention below the floor purged %d young rows: %v", n, err)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "time,direction") || !strings.Contains(buf.String(), "2026-09-01T00:01:00+07:00,in") {
		t.Errorf("csv: %s", buf.String())
	}
}
