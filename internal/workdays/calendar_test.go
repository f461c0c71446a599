package workdays

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// Every "3 working days" row of REQUIREMENTS (C3, R8.5), on the shipped calendar and on
// the shared reference.
func TestThreeWorkingDays_C3_R8_5(t *testing.T) {
	tests := []struct {
		why      string
		receipt  string
		deadline string
	}{
		{"Tết 14–22/02 off", "2026-02-13", "2026-02-25"},
		{"01–02/01 off, 03–04/01 weekend", "2025-12-31", "2026-01-07"},
		{"Fri 09/01, make-up Sat 10/01, Mon 12/01", "2026-01-08", "2026-01-12"},
		{"27/04 compensatory, 30/04–01/05 holidays", "2026-04-24", "2026-05-04"},
		{"31/08–02/09 off", "2026-08-28", "2026-09-07"},
		{"make-up Sat 26/04/2025 counts", "2025-04-25", "2025-04-29"},
		{"24/11 is not a holiday (C4)", "2026-11-20", "2026-11-25"},
	}
	for name, cal := range calendars(t) {
		for _, tc := range tests {
			got := cal.AddWorkingDays(d(t, tc.receipt), 3)
			if got.String() != tc.deadline {
				t.Errorf("%s: received %s (%s): deadline %s %s, want %s", name, tc.receipt, tc.why, got.Weekday(), got, tc.deadline)
			}
			// The deadline is the third working day, whatever counts as one.
			if n := cal.WorkingDaysBetween(d(t, tc.receipt), got); n != 3 {
				t.Errorf("%s: %d working days between %s and %s, want 3", name, n, tc.receipt, got)
			}
			if !cal.IsWorkingDay(got) {
				t.Errorf("%s: deadline %s is not a working day", name, got)
			}
		}
	}
}

// C4: 24 November becomes a holiday only when operators add it; then the deadline moves.
func TestCultureDayAdded_C4(t *testing.T) {
	for name, cal := range calendars(t) {
		day := d(t, "2026-11-24")
		if !cal.IsWorkingDay(day) {
			t.Fatalf("%s: 24/11 must be a working day until added (C4)", name)
		}
		if err := cal.Set(Entry{Date: day, Kind: Holiday, Name: "Ngày Văn hóa Việt Nam", Note: "operator"}); err != nil {
			t.Fatal(err)
		}
		if got := cal.AddWorkingDays(d(t, "2026-11-20"), 3).String(); got != "2026-11-26" {
			t.Errorf("%s: with 24/11 added, deadline %s, want 2026-11-26", name, got)
		}
		// Adding one day keeps the rest of the official 2026 table.
		if cal.IsWorkingDay(d(t, "2026-02-17")) || !cal.IsWorkingDay(d(t, "2026-01-10")) {
			t.Errorf("%s: adding 24/11 lost the rest of 2026", name)
		}
		if !cal.Remove(day) || !cal.IsWorkingDay(day) {
			t.Errorf("%s: removing 24/11 did not restore it as a working day", name)
		}
	}
}

func TestIsWorkingDay_C3(t *testing.T) {
	cal, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		day     string
		working bool
		why     string
	}{
		{"2026-01-09", true, "ordinary Friday"},
		{"2026-01-10", true, "make-up Saturday"},
		{"2026-01-11", false, "Sunday"},
		{"2026-01-02", false, "weekday swapped off"},
		{"2026-02-16", false, "Tết"},
		{"2026-02-23", true, "Monday after Tết"},
		{"2026-04-26", false, "Hùng Kings on a Sunday"},
		{"2026-04-27", false, "compensatory day"},
		{"2025-04-26", true, "make-up Saturday 2025"},
		{"2025-05-02", false, "swapped Friday 2025"},
		{"2027-02-11", false, "computed Tết 2027, from the table"},
		{"2028-01-03", false, "computed default: 1/1/2028 is a Saturday"},
		{"2028-01-26", false, "computed default: Tết 2028"},
		{"2028-01-24", true, "computed default: Monday before Tết 2028"},
	}
	for _, tc := range tests {
		if got := cal.IsWorkingDay(d(t, tc.day)); got != tc.working {
			t.Errorf("%s (%s): IsWorkingDay = %v, want %v", tc.day, tc.why, got, tc.working)
		}
	}
}

// The product ships its own copy of the calendar; it must equal the reference.
func TestEmbeddedEqualsReference_C3(t *testing.T) {
	ref, err := os.ReadFile(referenceCSV)
	if os.IsNotExist(err) {
		t.Skipf("reference %s absent", referenceCSV)
	}
	if err != nil {
		t.Fatal(err)
	}
	if string(ref) != shippedCSV {
		t.Error("embedded holidays-vn.csv differs from the shared reference: copy the reference into the package")
	}
}

// Operators' edits are saved with WriteCSV and loaded back with LoadCSV: the shipped
// file must come back byte for byte.
func TestWriteCSVRoundTrip_C3(t *testing.T) {
	cal, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cal.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if buf.String() != shippedCSV {
		t.Errorf("WriteCSV differs from the shipped file:\n%s", buf.String())
	}
	if got := cal.Years(); len(got) != 3 || got[0] != 2025 || got[2] != 2027 {
		t.Errorf("Years = %v, want [2025 2026 2027]", got)
	}
}

// C3: a loaded table replaces the computed defaults of its year as a whole.
func TestLoadedTableWins_C3(t *testing.T) {
	cal := DefaultCalendar(2025)
	// The computed 2025 Tết is 28/01–31/01 + 03/02; the official one is 27/01–31/01.
	if cal.IsWorkingDay(d(t, "2025-02-03")) || !cal.IsWorkingDay(d(t, "2025-01-27")) {
		t.Fatal("computed 2025 Tết is not what this test expects")
	}
	if err := cal.LoadCSV(strings.NewReader(shippedCSV)); err != nil {
		t.Fatal(err)
	}
	if !cal.IsWorkingDay(d(t, "2025-02-03")) || cal.IsWorkingDay(d(t, "2025-01-27")) {
		t.Error("official 2025 table did not replace the computed defaults")
	}
	// A file with rows only for 2028 leaves 2025–2027 alone.
	err := cal.LoadCSV(strings.NewReader("date,kind,name_vi,note\n2028-01-03,holiday,Nghỉ bù Tết Dương lịch,official\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cal.IsWorkingDay(d(t, "2025-01-27")) {
		t.Error("loading 2028 changed 2025")
	}
	if !cal.IsWorkingDay(d(t, "2028-01-26")) {
		t.Error("the loaded 2028 table must replace the computed 2028 Tết")
	}
	if !cal.DropYear(2028) || cal.IsWorkingDay(d(t, "2028-01-26")) {
		t.Error("DropYear must return 2028 to its computed defaults")
	}
	if cal.HasTable(2028) || !cal.HasTable(2025) {
		t.Error("HasTable")
	}
}

// Editing a year without a table materialises its defaults first (C3, C4).
func TestEditComputedYear_C3_C4(t *testing.T) {
	cal := DefaultCalendar()
	if cal.HasTable(2029) {
		t.Fatal("no table expected")
	}
	defaults := cal.Year(2029)
	if err := cal.Set(Entry{Date: d(t, "2029-11-24"), Kind: Holiday, Name: "Ngày Văn hóa Việt Nam"}); err != nil {
		t.Fatal(err)
	}
	if got := cal.Year(2029); len(got) != len(defaults)+1 {
		t.Errorf("2029 has %d entries after adding one to %d defaults", len(got), len(defaults))
	}
	if !cal.HasTable(2029) || cal.IsWorkingDay(d(t, "2029-11-24")) {
		t.Error("24/11/2029 not added")
	}
	if cal.IsWorkingDay(lunarNewYear(2029)) && !isWeekend(lunarNewYear(2029)) {
		t.Error("adding a day lost the computed Tết")
	}
	// A make-up day on a weekday is refused.
	if err := cal.Set(Entry{Date: d(t, "2029-01-10"), Kind: MakeupWorkday, Name: "x"}); !errors.Is(err, ErrInvalidEntry) {
		t.Errorf("make-up Wednesday accepted: %v", err)
	}
	if err := cal.Set(Entry{Date: d(t, "2029-01-13"), Kind: MakeupWorkday, Name: "Làm bù"}); err != nil || !cal.IsWorkingDay(d(t, "2029-01-13")) {
		t.Errorf("make-up Saturday: %v", err)
	}
}

func TestParseCSVErrors_C3(t *testing.T) {
	const h = "date,kind,name_vi,note\n"
	tests := []struct {
		name string
		in   string
	}{
		{"empty file", ""},
		{"wrong header", "day,kind,name,note\n"},
		{"impossible date", h + "2026-02-30,holiday,x,\n"},
		{"unknown kind", h + "2026-02-16,off,x,\n"},
		{"duplicate date", h + "2026-02-16,holiday,x,\n2026-02-16,holiday,y,\n"},
		{"make-up on a weekday", h + "2026-01-09,makeup_workday,x,\n"},
		{"missing column", h + "2026-02-16,holiday,x\n"},
		{"empty name", h + "2026-02-16,holiday,,\n"},
		{"control character", h + "2026-02-16,holiday,\"a\r\nb\",\n"},
		{"bad quoting", h + "2026-02-16,holiday,\"x,\n"},
	}
	for _, tc := range tests {
		if _, err := ParseCSV(strings.NewReader(tc.in)); !errors.Is(err, ErrInvalidEntry) {
			t.Errorf("%s: error %v, want ErrInvalidEntry", tc.name, err)
		}
		cal, _ := Shipped()
		before := cal.Entries()
		if err := cal.LoadCSV(strings.NewReader(tc.in)); err == nil {
			t.Errorf("%s: LoadCSV accepted it", tc.name)
		}
		if len(cal.Entries()) != len(before) {
			t.Errorf("%s: a failed LoadCSV changed the calendar", tc.name)
		}
	}
	// Spreadsheet habits: BOM, CR LF, spaces around date and kind.
	es, err := ParseCSV(strings.NewReader("\uFEFFdate,kind,name_vi,note\r\n 2026-01-10 , makeup_workday ,Làm bù,\r\n"))
	if err != nil || len(es) != 1 || es[0].Kind != MakeupWorkday {
		t.Errorf("tolerant parse: %v, %v", es, err)
	}
}

func TestWorkingDaysBackwards_C3(t *testing.T) {
	cal, _ := Shipped()
	// One working day before the deadline Wed 2026-02-25 is Tue 24/02; three before it
	// reach back over Tết to Fri 13/02.
	if got := cal.AddWorkingDays(d(t, "2026-02-25"), -1).String(); got != "2026-02-24" {
		t.Errorf("-1: %s", got)
	}
	if got := cal.AddWorkingDays(d(t, "2026-02-25"), -3).String(); got != "2026-02-13" {
		t.Errorf("-3: %s", got)
	}
	if got := cal.AddWorkingDays(d(t, "2026-02-14"), 0).String(); got != "2026-02-14" {
		t.Errorf("0: %s", got)
	}
	if n := cal.WorkingDaysBetween(d(t, "2026-02-25"), d(t, "2026-02-13")); n != -3 {
		t.Errorf("reversed WorkingDaysBetween = %d, want -3", n)
	}
}

// Daily jobs read while operators edit; run with -race to prove it.
func TestConcurrentReadAndEdit_C3(t *testing.T) {
	cal, _ := Shipped()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			day := NewDate(2026, 11, 24)
			_ = cal.Set(Entry{Date: day, Kind: Holiday, Name: "Ngày Văn hóa Việt Nam"})
			cal.Remove(day)
		}
	}()
	for i := 0; i < 200; i++ {
		got := cal.AddWorkingDays(d(t, "2026-11-20"), 3)
		if s := got.String(); s != "2026-11-25" && s != "2026-11-26" {
			t.Fatalf("deadline %s", s)
		}
		_ = cal.AddWorkingDays(NewDate(2031, 1, 1), 3)
	}
	<-done
}
