package sendlimit

import (
	"testing"
	"time"

	"govmail/internal/clock"
)

var ict = time.FixedZone("ICT", 7*3600)

// R17.2: messages per hour is a sliding hour.
func TestMessagesPerHour(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, ict))
	l := New(Config{MessagesPerHour: 3, RecipientsPerDay: 1000}, clk)
	for i := 0; i < 3; i++ {
		if d := l.Submit("a@sonla.gov.vn", 1); !d.Allowed {
			t.Fatalf("message %d refused: %+v", i+1, d)
		}
		clk.Advance(10 * time.Minute)
	}
	d := l.Submit("a@sonla.gov.vn", 1)
	if d.Allowed || d.Limit != MessagesPerHour || d.Count != 4 || d.Max != 3 {
		t.Fatalf("4th within the hour: %+v", d)
	}
	if d.Evidence() == "" {
		t.Error("no evidence text")
	}
	// Another account is not affected.
	if d := l.Submit("b@sonla.gov.vn", 1); !d.Allowed {
		t.Fatal("other account limited")
	}
	// An hour after the first ones, the window has room again.
	l.Reset("a@sonla.gov.vn")
	clk.Advance(2 * time.Hour)
	for i := 0; i < 3; i++ {
		if d := l.Submit("a@sonla.gov.vn", 1); !d.Allowed {
			t.Fatalf("after reset: %+v", d)
		}
		clk.Advance(25 * time.Minute)
	}
	// The first of these three is now more than an hour old.
	if d := l.Submit("a@sonla.gov.vn", 1); !d.Allowed {
		t.Fatalf("sliding window not sliding: %+v", d)
	}
}

// R17.2: recipients per day count per local calendar day (UTC+7).
func TestRecipientsPerDay(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 23, 0, 0, 0, ict))
	l := New(Config{MessagesPerHour: 1000, RecipientsPerDay: 10}, clk)
	if d := l.Submit("a@sonla.gov.vn", 10); !d.Allowed {
		t.Fatalf("10 of 10: %+v", d)
	}
	if d := l.Submit("a@sonla.gov.vn", 1); d.Allowed || d.Limit != RecipientsPerDay || d.Count != 11 {
		t.Fatalf("11th recipient: %+v", d)
	}
	// 00:30 local is a new day, though it is still 2 March in UTC.
	clk.Set(time.Date(2026, 3, 3, 0, 30, 0, 0, ict))
	if d := l.Submit("a@sonla.gov.vn", 10); !d.Allowed {
		t.Fatalf("new day: %+v", d)
	}
}

func TestSweepForgetsIdle(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, ict))
	l := New(Config{}, clk)
	for i := 0; i < 50; i++ {
		l.Submit(string(rune('a'+i%26))+"@x", 1)
	}
	clk.Advance(48 * time.Hour)
	l.Submit("z@x", 1)
	if n := len(l.usage); n != 1 {
		t.Errorf("%d accounts kept after two idle days", n)
	}
}
