package workdays

import (
	"errors"
	"testing"
	"time"
)

// Day arithmetic must agree with the time package over every day of the years the
// product will see, and far beyond.
func TestDateMatchesTimePackage(t *testing.T) {
	start := time.Date(1890, 1, 1, 12, 0, 0, 0, time.UTC)
	first := NewDate(1890, 1, 1)
	for i := 0; i < 365*320; i++ {
		tt := start.AddDate(0, 0, i)
		got := first.AddDays(i)
		if got.Year() != tt.Year() || got.Month() != tt.Month() || got.Day() != tt.Day() || got.Weekday() != tt.Weekday() {
			t.Fatalf("day %d: got %s %s, want %s", i, got, got.Weekday(), tt.Format("2006-01-02 Monday"))
		}
		if got.Sub(first) != i {
			t.Fatalf("%s.Sub(%s) = %d, want %d", got, first, got.Sub(first), i)
		}
	}
}

func TestNewDateNormalises(t *testing.T) {
	tests := []struct {
		y     int
		m     time.Month
		day   int
		want  string
		label string
	}{
		{2026, 2, 30, "2026-03-02", "day past month end"},
		{2026, 13, 1, "2027-01-01", "month past December"},
		{2026, 0, 1, "2025-12-01", "month zero"},
		{2026, 1, 0, "2025-12-31", "day zero"},
		{2024, 2, 29, "2024-02-29", "leap day"},
		{2026, -11, 1, "2025-01-01", "negative month"},
	}
	for _, tc := range tests {
		if got := NewDate(tc.y, tc.m, tc.day).String(); got != tc.want {
			t.Errorf("%s: NewDate(%d, %d, %d) = %s, want %s", tc.label, tc.y, tc.m, tc.day, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"2026-01-06", "2024-02-29", "0001-01-01", "9999-12-31"} {
		v, err := Parse(s)
		if err != nil || v.String() != s {
			t.Errorf("Parse(%q) = %v, %v", s, v, err)
		}
	}
	for _, s := range []string{"", "2026-02-30", "2025-02-29", "2026-1-6", "06/01/2026", "2026-01-06T00:00:00Z", " 2026-01-06", "+2026-01-06"} {
		if _, err := Parse(s); !errors.Is(err, ErrInvalidDate) {
			t.Errorf("Parse(%q) error = %v, want ErrInvalidDate", s, err)
		}
	}
}

func TestCompare(t *testing.T) {
	a, b := d(t, "2026-04-06"), d(t, "2026-04-07")
	if !a.Before(b) || a.After(b) || !b.After(a) || a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Error("ordering of 2026-04-06 and 2026-04-07 is wrong")
	}
	if a == b || a != d(t, "2026-04-06") {
		t.Error("== does not compare calendar dates")
	}
	if !(Date{}).IsZero() || a.IsZero() {
		t.Error("IsZero")
	}
}

// C1 counts days in Sơn La: an instant belongs to its date at UTC+7, not the server's.
func TestDateOfUsesVietnamTime_C1(t *testing.T) {
	loc := Location()
	if _, off := time.Date(2026, 1, 6, 0, 0, 0, 0, loc).Zone(); off != 7*3600 {
		t.Fatalf("Location offset %d, want UTC+7", off)
	}
	tests := []struct {
		at   string
		want string
	}{
		{"2026-01-05T16:59:59Z", "2026-01-05"},
		{"2026-01-05T17:00:00Z", "2026-01-06"}, // midnight in Sơn La
		{"2026-01-05T23:30:00Z", "2026-01-06"},
		{"2026-01-06T16:59:59Z", "2026-01-06"},
		{"2026-01-06T08:00:00-05:00", "2026-01-06"},
	}
	for _, tc := range tests {
		at, err := time.Parse(time.RFC3339, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		if got := DateOf(at, loc).String(); got != tc.want {
			t.Errorf("DateOf(%s) = %s, want %s", tc.at, got, tc.want)
		}
		if got := DateOf(at, nil).String(); got != tc.want {
			t.Errorf("DateOf(%s, nil) = %s, want %s", tc.at, got, tc.want)
		}
		if got := DateOf(at, time.FixedZone("ICT", 7*3600)).String(); got != tc.want {
			t.Errorf("DateOf(%s, fixed ICT) = %s, want %s", tc.at, got, tc.want)
		}
	}
	start := d(t, "2026-04-07").In(loc)
	if start.UTC().Format(time.RFC3339) != "2026-04-06T17:00:00Z" {
		t.Errorf("2026-04-07 begins at %s, want 2026-04-06T17:00:00Z", start.UTC().Format(time.RFC3339))
	}
}

func TestDateText(t *testing.T) {
	v := d(t, "2026-11-24")
	b, err := v.MarshalText()
	if err != nil || string(b) != "2026-11-24" {
		t.Fatalf("MarshalText = %q, %v", b, err)
	}
	var back Date
	if err := back.UnmarshalText(b); err != nil || back != v {
		t.Fatalf("UnmarshalText = %v, %v", back, err)
	}
	if b, _ := (Date{}).MarshalText(); len(b) != 0 {
		t.Errorf("zero Date marshals as %q, want empty", b)
	}
	if err := back.UnmarshalText(nil); err != nil || !back.IsZero() {
		t.Errorf("empty text gives %v, %v; want zero Date", back, err)
	}
	if err := back.UnmarshalText([]byte("2026-13-01")); !errors.Is(err, ErrInvalidDate) {
		t.Errorf("bad text: %v", err)
	}
}
