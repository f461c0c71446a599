package workdays

import (
	"math"
	"testing"
	"time"
)

// Meeus, Astronomical Algorithms, example 49.a: the new moon of February 1977.
func TestNewMoonMeeusExample(t *testing.T) {
	if got := newMoonJDE(-283); math.Abs(got-2443192.65118) > 0.00001 {
		t.Errorf("JDE = %.5f, want 2443192.65118", got)
	}
}

// The case that separates Vietnam from China in 2030: the new moon of 2 February 2030 at
// 16:07 UT is 23:07 in Hà Nội but 00:07 on the 3rd in Beijing.
func TestNewMoonLocalDate_C3(t *testing.T) {
	k := newMoonIndexOnOrBefore(d(t, "2030-02-05"))
	ut := newMoonJDE(float64(k)) - deltaT(2030.1)
	at := time.Unix(int64(math.Round((ut-2440587.5)*86400)), 0).UTC()
	want := time.Date(2030, 2, 2, 16, 7, 0, 0, time.UTC)
	if diff := at.Sub(want); diff < -2*time.Minute || diff > 2*time.Minute {
		t.Errorf("new moon at %s, want %s ± 2 min", at, want)
	}
	if got := newMoonDate(k).String(); got != "2030-02-02" {
		t.Errorf("local date %s, want 2030-02-02", got)
	}
}

// C3 defaults: mùng 1 Tết by the Vietnamese calendar at UTC+7.
func TestLunarNewYear_C3(t *testing.T) {
	tests := []struct {
		year int
		want string
		note string
	}{
		{1968, "1968-01-29", "first Tết after the switch to UTC+7 (China: 30/01)"},
		{1985, "1985-01-21", "a month before China's 20/02"},
		{2007, "2007-02-17", "China: 18/02"},
		{2023, "2023-01-22", ""},
		{2024, "2024-02-10", ""},
		{2025, "2025-01-29", ""},
		{2026, "2026-02-17", ""},
		{2027, "2027-02-06", ""},
		{2028, "2028-01-26", ""},
		// 2030-02-03, often quoted, is China's date; at UTC+7 the new moon falls at
		// 23:07 on 2 February (TestNewMoonLocalDate_C3).
		{2030, "2030-02-02", "China: 03/02"},
		{2033, "2033-01-31", ""},
		{2034, "2034-02-19", "after the leap 11th month of 2033"},
		{2053, "2053-02-18", "China: 19/02"},
	}
	for _, tc := range tests {
		if got := lunarNewYear(tc.year).String(); got != tc.want {
			t.Errorf("Tết %d = %s, want %s %s", tc.year, got, tc.want, tc.note)
		}
	}
}

// C3 defaults: Giỗ Tổ Hùng Vương, 10th day of the 3rd lunar month.
func TestHungKingsDay_C3(t *testing.T) {
	tests := map[int]string{
		2023: "2023-04-29", // after a leap 2nd month
		2024: "2024-04-18",
		2025: "2025-04-07",
		2026: "2026-04-26",
		2027: "2027-04-16",
	}
	for y, want := range tests {
		if got := lunarToSolar(y, 3, 10).String(); got != want {
			t.Errorf("Hùng Kings %d = %s, want %s", y, got, want)
		}
	}
}

func TestLeapMonths_C3(t *testing.T) {
	tests := []struct {
		year  int // Gregorian year whose span holds the leap month
		month int
	}{
		{2020, 4},
		{2023, 2},
		{2025, 6},
		{2028, 5},
		{2034, 11}, // the leap 11th month of late 2033 opens the span of 2034
	}
	for _, tc := range tests {
		var leaps []int
		for _, m := range lunarMonths(tc.year) {
			if m.leap {
				leaps = append(leaps, m.num)
			}
		}
		if len(leaps) != 1 || leaps[0] != tc.month {
			t.Errorf("span of %d: leap months %v, want [%d]", tc.year, leaps, tc.month)
		}
	}
	// Months are 29 or 30 days and spans hold 12 or 13 of them, every year.
	for y := 1900; y <= 2200; y++ {
		ms := lunarMonths(y)
		if len(ms) != 12 && len(ms) != 13 {
			t.Fatalf("%d: %d months", y, len(ms))
		}
		for i := 1; i < len(ms); i++ {
			if n := ms[i].start.Sub(ms[i-1].start); n != 29 && n != 30 {
				t.Fatalf("%d: month %d has %d days", y, ms[i-1].num, n)
			}
		}
		tet := lunarNewYear(y)
		if tet.Before(NewDate(y, 1, 20)) || tet.After(NewDate(y, 2, 21)) {
			t.Fatalf("Tết %d on %s", y, tet)
		}
	}
}
