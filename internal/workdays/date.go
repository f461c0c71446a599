package workdays

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidDate is returned for text that is not a date in the form 2006-01-02.
var ErrInvalidDate = errors.New("workdays: invalid date")

// Date is a civil calendar date (proleptic Gregorian) with no time of day and no zone.
// The regulation counts whole days in Vietnam, so an instant must first be placed in
// Asia/Ho_Chi_Minh (DateOf) and only then counted; counting with time.Duration would
// make a day depend on the server's zone.
//
// Dates are normalised, so == and Compare agree. The zero Date is "no date".
type Date struct {
	y int
	m time.Month
	d int
}

// NewDate returns the date year-month-day, normalised like time.Date (2026-02-30 is
// 2026-03-02).
func NewDate(year int, month time.Month, day int) Date {
	// Normalise the month first so that the day offset is added to a real month start.
	y, m := year, int(month)-1
	y += floorDiv(m, 12)
	m = floorMod(m, 12) + 1
	return fromDayNumber(dayNumber(y, time.Month(m), 1) + int64(day) - 1)
}

// Parse reads a date in the form 2006-01-02 and refuses anything else, including
// impossible days such as 2026-02-30, because a holiday table with a typo must fail
// loudly rather than move a holiday.
func Parse(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%w %q", ErrInvalidDate, s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// Location returns Asia/Ho_Chi_Minh. When the zone database is missing (a bare
// container without tzdata) it returns a fixed UTC+7 zone, which is exact: Vietnam has
// kept UTC+7 without daylight saving since 1975. Callers keep the result rather than
// call this per date, since loading the zone reads the zone database each time.
func Location() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}

// DateOf returns the calendar date of t in loc; a nil loc means Location(). A login at
// 23:30 UTC on 5 January happened on 6 January in Sơn La, and it is Sơn La's date that
// starts the count.
func DateOf(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = Location()
	}
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// Year returns the year.
func (d Date) Year() int { return d.y }

// Month returns the month.
func (d Date) Month() time.Month { return d.m }

// Day returns the day of the month.
func (d Date) Day() int { return d.d }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday {
	// Day number 0 is 1970-01-01, a Thursday.
	return time.Weekday(floorMod64(d.dayNumber()+4, 7))
}

// AddDays returns the date n days after d (before it when n < 0).
func (d Date) AddDays(n int) Date { return fromDayNumber(d.dayNumber() + int64(n)) }

// Sub returns the number of days from o to d: d.Sub(o) == n when o.AddDays(n) == d.
func (d Date) Sub(o Date) int { return int(d.dayNumber() - o.dayNumber()) }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	a, b := d.dayNumber(), o.dayNumber()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// In returns the first instant of d in loc (nil means Location()): the moment from which
// a consequence that "applies from" d is in force.
func (d Date) In(loc *time.Location) time.Time {
	if loc == nil {
		loc = Location()
	}
	return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, loc)
}

// String returns d as 2006-01-02.
func (d Date) String() string {
	if d.y >= 0 && d.y <= 9999 {
		return fmt.Sprintf("%04d-%02d-%02d", d.y, int(d.m), d.d)
	}
	return fmt.Sprintf("%d-%02d-%02d", d.y, int(d.m), d.d)
}

// MarshalText writes d as 2006-01-02 and the zero Date as empty text, so that an unset
// date in configuration or JSON stays unset.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	if d.y < 0 || d.y > 9999 {
		return nil, fmt.Errorf("%w: year %d out of range", ErrInvalidDate, d.y)
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads what MarshalText writes.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// dayNumber counts days from 1970-01-01 in the proleptic Gregorian calendar, using the
// era arithmetic of Howard Hinnant's "days_from_civil" so that any year works without
// time.Time's range or zone.
func (d Date) dayNumber() int64 {
	if d.IsZero() {
		// The zero Date is not a calendar date; give it a fixed place (0000-01-01's
		// neighbour) so that arithmetic on it is defined rather than a panic.
		return dayNumber(0, 1, 0)
	}
	return dayNumber(d.y, d.m, d.d)
}

func dayNumber(year int, month time.Month, day int) int64 {
	y := int64(year)
	m := int64(month)
	if m <= 2 {
		y--
	}
	era := floorDiv64(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12 // March = 0, so that the leap day ends the year
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func fromDayNumber(n int64) Date {
	n += 719468
	era := floorDiv64(n, 146097)
	doe := n - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return Date{int(y), time.Month(m), int(d)}
}

func daysIn(year int, month time.Month) int {
	if month == 12 {
		return int(dayNumber(year+1, 1, 1) - dayNumber(year, 12, 1))
	}
	return int(dayNumber(year, month+1, 1) - dayNumber(year, month, 1))
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

func floorDiv64(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod64(a, b int64) int64 { return a - floorDiv64(a, b)*b }
