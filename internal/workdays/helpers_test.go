package workdays

import (
	"os"
	"testing"
)

// referenceCSV is the shared specification's copy of the calendar, relative to this
// package's directory; the product ships its own embedded copy.
const referenceCSV = "../../../shared/data/holidays-vn.csv"

func d(t testing.TB, s string) Date {
	t.Helper()
	v, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// calendars returns the calendars every C3 vector must hold on: the shipped one and,
// when the shared reference exists, one loaded from it.
func calendars(t *testing.T) map[string]*Calendar {
	t.Helper()
	shipped, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	cs := map[string]*Calendar{"embedded": shipped}
	f, err := os.Open(referenceCSV)
	if os.IsNotExist(err) {
		t.Logf("reference %s absent; checking the embedded copy only", referenceCSV)
		return cs
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref := DefaultCalendar()
	if err := ref.LoadCSV(f); err != nil {
		t.Fatalf("reference: %v", err)
	}
	cs["reference"] = ref
	return cs
}
