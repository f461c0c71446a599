package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"govmail/internal/workdays"
)

// Period is a reporting period of whole local days, both ends included.
type Period struct {
	From, To workdays.Date
	// Key names the period: 2026-11, 2026-Q4, 2026, or 2026-11-03_2026-11-20.
	Key string
}

// Month returns the period of one calendar month.
func Month(year int, m time.Month) Period {
	from := workdays.NewDate(year, m, 1)
	return Period{From: from, To: workdays.NewDate(year, m+1, 1).AddDays(-1), Key: fmt.Sprintf("%04d-%02d", from.Year(), int(from.Month()))}
}

// Quarter returns the period of quarter q (1–4) of year.
func Quarter(year, q int) Period {
	from := workdays.NewDate(year, time.Month(3*(q-1)+1), 1)
	return Period{From: from, To: workdays.NewDate(year, time.Month(3*q+1), 1).AddDays(-1), Key: fmt.Sprintf("%04d-Q%d", year, q)}
}

// Year returns the period of a calendar year.
func Year(year int) Period {
	return Period{From: workdays.NewDate(year, 1, 1), To: workdays.NewDate(year, 12, 31), Key: fmt.Sprintf("%04d", year)}
}

// Between returns the period from one date to another, both included.
func Between(from, to workdays.Date) (Period, error) {
	if to.Before(from) {
		return Period{}, fmt.Errorf("report: period ends (%s) before it starts (%s)", to, from)
	}
	return Period{From: from, To: to, Key: from.String() + "_" + to.String()}, nil
}

// ParsePeriod reads 2026-11 (a month), 2026-Q4 (a quarter) or 2026 (a year).
func ParsePeriod(s string) (Period, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("report: period %q: write 2026-11, 2026-Q4 or 2026", s)
	ys, rest, hasRest := strings.Cut(s, "-")
	year, err := strconv.Atoi(ys)
	if err != nil || len(ys) != 4 {
		return Period{}, bad
	}
	if !hasRest {
		return Year(year), nil
	}
	if q, ok := strings.CutPrefix(strings.ToUpper(rest), "Q"); ok {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 4 {
			return Period{}, bad
		}
		return Quarter(year, n), nil
	}
	m, err := strconv.Atoi(rest)
	if err != nil || m < 1 || m > 12 || len(rest) != 2 {
		return Period{}, bad
	}
	return Month(year, time.Month(m)), nil
}

// Start is the first instant of the period in loc.
func (p Period) Start(loc *time.Location) time.Time { return p.From.In(loc) }

// End is the first instant after the period in loc.
func (p Period) End(loc *time.Location) time.Time { return p.To.AddDays(1).In(loc) }

// LabelVI names the period in Vietnamese: "tháng 11/2026", "quý IV/2026", "năm 2026".
func (p Period) LabelVI() string {
	switch {
	case strings.Contains(p.Key, "_"):
		return "từ " + dmy(p.From) + " đến " + dmy(p.To)
	case strings.Contains(p.Key, "-Q"):
		return fmt.Sprintf("quý %s/%d", [...]string{"I", "II", "III", "IV"}[(int(p.From.Month())-1)/3], p.From.Year())
	case len(p.Key) == 4:
		return fmt.Sprintf("năm %d", p.From.Year())
	}
	return fmt.Sprintf("tháng %02d/%d", int(p.From.Month()), p.From.Year())
}

// LabelEN names the period in English.
func (p Period) LabelEN() string {
	switch {
	case strings.Contains(p.Key, "_"):
		return p.From.String() + " to " + p.To.String()
	case strings.Contains(p.Key, "-Q"):
		return fmt.Sprintf("Q%d %d", (int(p.From.Month())-1)/3+1, p.From.Year())
	case len(p.Key) == 4:
		return fmt.Sprintf("year %d", p.From.Year())
	}
	return fmt.Sprintf("%s %d", p.From.Month(), p.From.Year())
}

// dmy formats a date the Vietnamese way (27/11/2026).
func dmy(d workdays.Date) string {
	return fmt.Sprintf("%02d/%02d/%04d", d.Day(), int(d.Month()), d.Year())
}
