package report

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"govmail/internal/delivery"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// XLSXType is the media type of the attached workbook.
const XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Monthly mails the province report of the previous month to the configured
// mailboxes (the People's Committee office, Điều 7.3) on the first working day
// of each month. The regulation sets no period; monthly is the default (R7.3).
type Monthly struct {
	Builder    *Builder
	Calendar   *workdays.Calendar
	Deliverer  *delivery.Deliverer
	Domain     string
	Recipients []string // local addresses
	Logger     *slog.Logger
}

// FirstWorkingDay is the first working day of a month (C3): after New Year's
// Day, a swapped day off, or Tết when it opens the month.
func FirstWorkingDay(cal *workdays.Calendar, year int, month time.Month) workdays.Date {
	d := workdays.NewDate(year, month, 1)
	for i := 0; i < 31 && !cal.IsWorkingDay(d); i++ {
		d = d.AddDays(1)
	}
	return d
}

// Run sends last month's report once: on the first working day of this month,
// or on a later day of the month when the server was down that day. Running it
// again changes nothing; a failed sending is released, so the next run retries.
func (m *Monthly) Run(ctx context.Context) (bool, error) {
	if len(m.Recipients) == 0 {
		return false, nil
	}
	now := m.Builder.Clock.Now()
	today := workdays.DateOf(now, workdays.Location())
	if today.Before(FirstWorkingDay(m.Calendar, today.Year(), today.Month())) {
		return false, nil
	}
	p := Month(today.Year(), today.Month()-1)
	key := "monthly:" + p.Key
	st := m.Builder.Store
	first, err := st.ClaimReport(ctx, key, now)
	if err != nil || !first {
		return false, err
	}
	to, err := m.send(ctx, p)
	if err != nil {
		if rerr := st.ReleaseReport(ctx, key); rerr != nil {
			m.log().Error("monthly report: claim not released", "period", p.Key, "err", rerr)
		}
		return false, err
	}
	if err := st.AppendAudit(ctx, store.AuditEntry{Time: now, Actor: "system:monthly-report", Action: "report.send",
		Target: p.Key, Detail: strings.Join(to, ", ")}); err != nil {
		m.log().Error("audit log", "err", err)
	}
	m.log().Info("monthly report sent", "period", p.Key, "to", strings.Join(to, ", "))
	return true, nil
}

func (m *Monthly) log() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

func (m *Monthly) send(ctx context.Context, p Period) ([]string, error) {
	r, err := m.Builder.Build(ctx, p, "")
	if err != nil {
		return nil, err
	}
	return Send(ctx, m.Deliverer, m.Builder.Store, r, m.Domain, m.Recipients, m.log())
}

// Send mails r with its workbook attached to the local mailboxes named (an
// alias reaches its account), and returns the addresses it went to. Unknown
// addresses are logged and skipped; none known is an error.
func Send(ctx context.Context, d *delivery.Deliverer, st Store, r *Report, domain string, recipients []string, log *slog.Logger) ([]string, error) {
	now := d.Clock.Now()
	var to []*store.Account
	var addrs []string
	for _, addr := range recipients {
		a, err := st.ResolveAddress(ctx, strings.ToLower(strings.TrimSpace(addr)), now)
		if err != nil {
			log.Warn("report: recipient not found", "address", addr, "err", err)
			continue
		}
		to = append(to, a)
		addrs = append(addrs, a.Address)
	}
	if len(to) == 0 {
		return nil, fmt.Errorf("report: none of %s is a local mailbox", strings.Join(recipients, ", "))
	}
	var x bytes.Buffer
	if err := r.XLSX(&x); err != nil {
		return nil, err
	}
	mail := &Mail{From: "noreply@" + domain, Subject: r.TitleVI() + " / " + r.TitleEN(), Text: r.Summary(), Date: now,
		Domain: domain, Kind: "report",
		Attachments: []Attachment{{Name: r.FileName(FormatXLSX), ContentType: XLSXType, Data: x.Bytes()}}}
	if err := Deliver(ctx, d, mail, to); err != nil {
		return nil, err
	}
	return addrs, nil
}

// Summary is the covering text of a mailed report: the main province figures,
// Vietnamese first.
func (r *Report) Summary() string {
	t := &r.Total.F
	var b strings.Builder
	fmt.Fprintf(&b, "Sở Khoa học và Công nghệ gửi %s (tệp đính kèm %s).\n\n", r.TitleVI(), r.FileName(FormatXLSX))
	fmt.Fprintf(&b, "Số liệu chính (%s, %s):\n", r.ScopeVI(), r.Period.LabelVI())
	fmt.Fprintf(&b, "- Tài khoản đang hoạt động: %d; bị khóa: %d; không đăng nhập quá %d ngày: %d\n", t.Active, sum(t.Locked), r.IdleDays, t.Idle)
	fmt.Fprintf(&b, "- Trong kỳ: cấp mới %d, điều chỉnh %d, thu hồi %d, khóa %d, khôi phục %d\n", t.Created, t.Modified, t.RevokedInPeriod, sum(t.LockedInPeriod), t.Restored)
	fmt.Fprintf(&b, "- Đề nghị: tiếp nhận %d, đã thực hiện %d, từ chối %d, quá hạn %d\n", t.RequestsReceived, t.RequestsDone, t.RequestsRejected, t.OverdueOpen+t.OverdueLate)
	fmt.Fprintf(&b, "- Thư nhận %d, thư gửi %d; thư bị từ chối hoặc giữ lại %d (virus %d, thư rác %d)\n", t.Received, t.Sent, sum(t.Held), t.Held[store.HeldVirus], t.Held[store.HeldSpam])
	b.WriteString("\n———\n\n")
	fmt.Fprintf(&b, "The Department of Science and Technology sends the %s (attached: %s).\n\n", r.TitleEN(), r.FileName(FormatXLSX))
	fmt.Fprintf(&b, "Main figures (%s, %s):\n", r.ScopeEN(), r.Period.LabelEN())
	fmt.Fprintf(&b, "- Accounts active: %d; locked: %d; no login for over %d days: %d\n", t.Active, sum(t.Locked), r.IdleDays, t.Idle)
	fmt.Fprintf(&b, "- In the period: created %d, modified %d, revoked %d, locked %d, restored %d\n", t.Created, t.Modified, t.RevokedInPeriod, sum(t.LockedInPeriod), t.Restored)
	fmt.Fprintf(&b, "- Requests: received %d, carried out %d, rejected %d, overdue %d\n", t.RequestsReceived, t.RequestsDone, t.RequestsRejected, t.OverdueOpen+t.OverdueLate)
	fmt.Fprintf(&b, "- Messages received %d, sent %d; refused or held %d (virus %d, spam %d)\n", t.Received, t.Sent, sum(t.Held), t.Held[store.HeldVirus], t.Held[store.HeldSpam])
	return b.String()
}
