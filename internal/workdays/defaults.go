package workdays

import (
	"fmt"
	"sort"
	"time"
)

// DefaultEntries returns the computed calendar of a year for which no official schedule
// is loaded (C3): the public holidays of the Labour Code 2019, Art. 112.1, with lunar
// dates from the Vietnamese calendar at UTC+7, and a compensatory day (Art. 112.3) on the
// next working day for each holiday that falls on a Saturday or Sunday. Swapped days and
// make-up Saturdays are decisions of each year's official schedule and cannot be
// computed, so a computed year has none. Notes begin with "computed", like the rows of
// holidays-vn.csv that were made the same way.
func DefaultEntries(year int) []Entry {
	type legal struct {
		date Date
		name string
		note string
	}
	var days []legal
	add := func(d Date, name, note string) { days = append(days, legal{d, name, note}) }

	add(Date{year, time.January, 1}, "Tết Dương lịch", "computed")

	// Tết: the law gives 5 days and leaves their placement to the Prime Minister, who
	// fits them to the weekends: 2025 took the 2 days before mùng 1 + mùng 1–3, 2026 the
	// last day of the year + mùng 1–4. We take the last day of the year (29 or 30 Chạp)
	// + mùng 1–4: it always holds New Year's Eve and the three traditional days, it is
	// what the latest schedule chose, and it is the guess already recorded for 2027 in
	// holidays-vn.csv, so computation and table agree until the official 2027 schedule.
	// A year's official schedule replaces this guess when loaded.
	tet := lunarNewYear(year)
	tetNote := fmt.Sprintf("computed; last day of the lunar year to mùng 4, mùng 1 = %s", short(tet))
	for i := -1; i <= 3; i++ {
		add(tet.AddDays(i), "Tết Nguyên đán", tetNote)
	}

	add(lunarToSolar(year, 3, 10), "Giỗ Tổ Hùng Vương", "computed; 10/3 lunar")
	add(Date{year, time.April, 30}, "Ngày Chiến thắng", "computed")
	add(Date{year, time.May, 1}, "Ngày Quốc tế Lao động", "computed")

	nd := Date{year, time.September, 2}
	add(nd, "Quốc khánh", "computed")
	add(nationalDayAdjacent(nd), "Quốc khánh (ngày liền kề)", "computed; adjacent day chosen by weekday")

	sort.SliceStable(days, func(i, j int) bool { return days[i].date.Before(days[j].date) })
	isLegal := make(map[Date]bool, len(days))
	for _, l := range days {
		isLegal[l.date] = true
	}

	out := make(map[Date]Entry, len(days)+4)
	for _, l := range days {
		if isWeekend(l.date) {
			continue
		}
		if _, taken := out[l.date]; taken {
			continue
		}
		out[l.date] = Entry{Date: l.date, Kind: Holiday, Name: l.name, Note: l.note}
	}
	// Art. 112.3 compensates a holiday that falls on a weekly rest day with the next
	// working day. Two holidays on one date (Giỗ Tổ Hùng Vương can reach 29/4–1/5 in a year
	// with a leap month) are treated the same way, since the worker loses one of them
	// just as surely. No official schedule has had to decide that case: between 1900 and
	// 2200 the lunar calendar brings it about only in 1947 (TestCoincidingHolidays_C3).
	seen := make(map[Date]bool, len(days))
	for _, l := range days {
		lost := isWeekend(l.date) || seen[l.date]
		seen[l.date] = true
		if !lost {
			continue
		}
		c := l.date.AddDays(1)
		for isWeekend(c) || isLegal[c] || hasEntry(out, c) {
			c = c.AddDays(1)
		}
		out[c] = Entry{
			Date: c, Kind: Holiday,
			Name: "Nghỉ bù " + l.name,
			Note: fmt.Sprintf("computed; compensates %s %s", l.name, short(l.date)),
		}
	}

	entries := make([]Entry, 0, len(out))
	for _, e := range out {
		entries = append(entries, e)
	}
	sortEntries(entries)
	return entries
}

// nationalDayAdjacent picks the second day of Quốc khánh. Art. 112.1đ says "2/9 and one
// day immediately before or after" and the Government picks it each year to join the
// weekend: 3/9 in 2021 (2/9 Thu) and 2024 (2/9 Mon, 1/9 being a Sunday), 1/9 in 2022
// (Fri), 2023 (Sat), 2025 (Tue) and 2026 (Wed). The rule below reproduces all six: take
// 1/9 unless it is a weekend day or 3/9 is a Friday.
func nationalDayAdjacent(nd Date) Date {
	before, after := nd.AddDays(-1), nd.AddDays(1)
	if isWeekend(before) || after.Weekday() == time.Friday {
		return after
	}
	return before
}

func isWeekend(d Date) bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

func hasEntry(m map[Date]Entry, d Date) bool {
	_, ok := m[d]
	return ok
}

// short formats a date the way the notes of holidays-vn.csv do: "Sat 06/02".
func short(d Date) string {
	return fmt.Sprintf("%s %02d/%02d", d.Weekday().String()[:3], d.d, int(d.m))
}

func sortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Date.Before(es[j].Date) })
}
