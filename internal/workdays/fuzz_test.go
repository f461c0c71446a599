package workdays

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// FuzzLoadCSV feeds junk to the operators' upload path (C3): LoadCSV must never panic,
// must leave the calendar unchanged on error, and whatever it accepts must survive
// WriteCSV and a second load unchanged.
func FuzzLoadCSV(f *testing.F) {
	// A few lines of the real file rather than all of it: the engine minimises every new
	// interesting input, and minimising a 4 kB seed eats the whole fuzzing budget.
	lines := strings.SplitAfter(shippedCSV, "\n")
	f.Add(strings.Join(lines[:4], "") + lines[9] + lines[15])
	f.Add("date,kind,name_vi,note\n")
	f.Add("\uFEFFdate,kind,name_vi,note\r\n2026-01-10,makeup_workday,Làm bù,\r\n")
	f.Add("date,kind,name_vi,note\n2026-02-30,holiday,x,\n")
	f.Add("date,kind,name_vi,note\n0000-01-01,holiday,\" a \",\"b,c\"\n9999-12-31,holiday,z,\n")
	f.Add("date,kind,name_vi,note\n2026-02-16,holiday,\"x\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		cal := DefaultCalendar()
		err := cal.LoadCSV(strings.NewReader(in))
		if err != nil {
			if len(cal.Years()) != 0 {
				t.Fatalf("failed load changed the calendar: %v", err)
			}
			return
		}
		es := cal.Entries()
		for _, e := range es {
			if err := e.Validate(); err != nil {
				t.Fatalf("accepted invalid entry: %v", err)
			}
			// A loaded day must say what its row says.
			if cal.IsWorkingDay(e.Date) != (e.Kind == MakeupWorkday) {
				t.Fatalf("%s: IsWorkingDay disagrees with kind %s", e.Date, e.Kind)
			}
		}
		var buf bytes.Buffer
		if err := cal.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		again := DefaultCalendar()
		if err := again.LoadCSV(&buf); err != nil {
			t.Fatalf("reload of written file: %v\n%s", err, buf.String())
		}
		if got := again.Entries(); !reflect.DeepEqual(got, es) && !(len(got) == 0 && len(es) == 0) {
			t.Fatalf("round trip changed entries:\n%v\n%v", es, got)
		}
	})
}
