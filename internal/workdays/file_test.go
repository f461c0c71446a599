package workdays

import (
	"os"
	"path/filepath"
	"testing"
)

// C4: an operator's edit of the calendar, saved, is what the next start
// loads; no file is no edit; a damaged file is an error, not a silent
// fallback to the shipped calendar.
func TestSaveAndLoadFile_C4(t *testing.T) {
	dir := t.TempDir()
	cal, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDate(2026, 11, 24)
	if !cal.IsWorkingDay(d) {
		t.Fatal("24/11/2026 is a working day in the shipped calendar")
	}
	if err := cal.Set(Entry{Date: d, Kind: Holiday, Name: "Ngày Văn hóa Việt Nam"}); err != nil {
		t.Fatal(err)
	}
	if err := cal.SaveFile(dir); err != nil {
		t.Fatal(err)
	}
	next, _ := Shipped()
	if err := next.LoadFile(dir); err != nil {
		t.Fatal(err)
	}
	if next.IsWorkingDay(d) {
		t.Error("the saved holiday did not load")
	}
	fresh, _ := Shipped()
	if err := fresh.LoadFile(t.TempDir()); err != nil || !fresh.IsWorkingDay(d) {
		t.Errorf("no file: %v, working day %v", err, fresh.IsWorkingDay(d))
	}
	os.WriteFile(filepath.Join(dir, HolidaysFile), []byte("date,kind\nnot a date,holiday\n"), 0o644)
	if err := fresh.LoadFile(dir); err == nil {
		t.Error("a damaged calendar file loaded without error")
	}
}
