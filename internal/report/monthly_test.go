package report

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/xuri/excelize/v2"

	"govmail/internal/store"
	"govmail/internal/workdays"
)

// C3: the first working day of a month skips New Year's Day and the swapped
// day off of 2 January 2026, weekends, and the holidays of 30/4–1/5 and 2/9.
func TestFirstWorkingDay_C3(t *testing.T) {
	cal, err := workdays.Shipped()
	must(t, err)
	for _, c := range []struct {
		month time.Month
		want  string
	}{
		{time.January, "2026-01-05"},   // 1/1 holiday, 2/1 swapped off, 3–4/1 weekend
		{time.February, "2026-02-02"},  // 1/2 is a Sunday; Tết (14–22/2) comes later
		{time.March, "2026-03-02"},     // 1/3 is a Sunday
		{time.May, "2026-05-04"},       // 1/5 holiday, 2–3/5 weekend
		{time.September, "2026-09-03"}, // 1–2/9 National Day
		{time.December, "2026-12-01"},
	} {
		if got := FirstWorkingDay(cal, 2026, c.month).String(); got != c.want {
			t.Errorf("%s 2026: %s, want %s", c.month, got, c.want)
		}
	}
}

func inbox(t *testing.T, st store.Store, a *store.Account) [][]byte {
	t.Helper()
	ctx := context.Background()
	mb, err := st.MailboxByName(ctx, a.ID, "INBOX")
	must(t, err)
	msgs, _, err := st.Messages(ctx, mb.ID, false)
	must(t, err)
	var out [][]byte
	for _, m := range msgs {
		b, err := st.ReadBlob(ctx, m.BlobID)
		must(t, err)
		out = append(out, b)
	}
	return out
}

// attachment returns the subject and the one attachment of a message.
func attachment(t *testing.T, raw []byte) (string, string, []byte) {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	must(t, err)
	subject, err := mr.Header.Subject()
	must(t, err)
	var name string
	var data []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		must(t, err)
		if h, ok := p.Header.(*mail.AttachmentHeader); ok {
			name, _ = h.Filename()
			data, err = io.ReadAll(p.Body)
			must(t, err)
		}
	}
	return subject, name, data
}

// Điều 7.3, R7.3: the province report of the month before is mailed, with the
// workbook attached, to the People's Committee office on the first working
// day of each month (C3: Monday 5 January 2026 after the New Year days off;
// Monday 2 February 2026), once, however often the daily jobs run.
func TestMonthlyReportSentOnceOnFirstWorkingDay_R7_3(t *testing.T) {
	e := setup(t, at("2025-12-10"))
	ctx := context.Background()
	ubnd, err := e.dir.CreateUnitMailbox(ctx, "vpubnd", e.hash, 1<<30, "op@sonla.gov.vn")
	must(t, err)
	e.person(t, "skhcn", "Lò Văn An")
	m := &Monthly{Builder: &Builder{Store: e.st, Clock: e.clk}, Calendar: e.cal, Deliverer: e.deliv, Domain: "sonla.gov.vn",
		Recipients: []string{"VPUBND@sonla.gov.vn"}}
	run := func(day, hhmm string, want bool) {
		t.Helper()
		e.set(day, hhmm)
		sent, err := m.Run(ctx)
		must(t, err)
		if sent != want {
			t.Errorf("%s %s: sent = %v, want %v", day, hhmm, sent, want)
		}
	}
	for _, d := range []string{"2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"} {
		run(d, "00:30", false)
	}
	run("2026-01-05", "00:30", true)
	run("2026-01-05", "15:00", false)
	run("2026-01-06", "00:30", false)
	if n := len(inbox(t, e.st, ubnd)); n != 1 {
		t.Fatalf("%d reports in the office's inbox after January's runs, want 1", n)
	}
	run("2026-02-01", "00:30", false)
	run("2026-02-02", "00:30", true)
	run("2026-02-03", "00:30", false)
	msgs := inbox(t, e.st, ubnd)
	if len(msgs) != 2 {
		t.Fatalf("%d reports, want 2", len(msgs))
	}
	subject, name, data := attachment(t, msgs[0])
	if !strings.Contains(subject, "tháng 12/2025") || name != "bao-cao-thu-dien-tu_2025-12.xlsx" {
		t.Errorf("first report: %q, %q", subject, name)
	}
	if !bytes.Contains(msgs[0], []byte("Content-Type: "+XLSXType)) || !bytes.Contains(msgs[0], []byte("X-Govmail-Notice: report")) {
		t.Error("attachment type or notice header missing")
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	must(t, err)
	defer f.Close()
	rows, err := f.GetRows("Biến động")
	must(t, err)
	total := rows[len(rows)-1]
	if !strings.HasPrefix(total[0], "Toàn tỉnh") || total[2] != "2" { // the office's mailbox and An, created in December
		t.Errorf("December created: %v", total)
	}
	if subject, _, _ := attachment(t, msgs[1]); !strings.Contains(subject, "tháng 01/2026") {
		t.Errorf("second report: %q", subject)
	}
	audit, err := e.st.SearchAudit(ctx, "2025-12", time.Time{}, time.Time{}, 10)
	must(t, err)
	if len(audit) != 1 || audit[0].Action != "report.send" || audit[0].Detail != "vpubnd@sonla.gov.vn" {
		t.Errorf("audit: %+v", audit)
	}
}

// A sending that fails is not recorded as done: the next run retries.
func TestMonthlyReportRetriedAfterFailure(t *testing.T) {
	e := setup(t, at("2026-03-02"))
	ctx := context.Background()
	m := &Monthly{Builder: &Builder{Store: e.st, Clock: e.clk}, Calendar: e.cal, Deliverer: e.deliv, Domain: "sonla.gov.vn",
		Recipients: []string{"vpubnd@sonla.gov.vn"}}
	if sent, err := m.Run(ctx); err == nil || sent {
		t.Fatalf("no mailbox yet: sent %v, err %v", sent, err)
	}
	ubnd, err := e.dir.CreateUnitMailbox(ctx, "vpubnd", e.hash, 1<<30, "op@sonla.gov.vn")
	must(t, err)
	e.set("2026-03-03")
	if sent, err := m.Run(ctx); err != nil || !sent {
		t.Fatalf("retry: sent %v, err %v", sent, err)
	}
	if n := len(inbox(t, e.st, ubnd)); n != 1 {
		t.Errorf("%d reports, want 1", n)
	}
	// Without recipients configured nothing is due.
	if sent, err := (&Monthly{Builder: m.Builder, Calendar: e.cal}).Run(ctx); sent || err != nil {
		t.Errorf("unconfigured: %v %v", sent, err)
	}
}
