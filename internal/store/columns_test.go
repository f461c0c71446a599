package store

import (
	"slices"
	"testing"
	"time"
)

func TestNormFlags(t *testing.T) {
	got := NormFlags([]string{`\Seen`, "", `\recent`, `\Recent`, `\seen`, "$Junk", `\Answered`})
	want := []string{"$Junk", `\Answered`, `\Seen`}
	if !slices.Equal(got, want) {
		t.Errorf("NormFlags = %q, want %q", got, want)
	}
	if s := SplitFlags(JoinFlags(got)); !slices.Equal(s, want) {
		t.Errorf("SplitFlags(JoinFlags) = %q", s)
	}
	if SplitFlags("") != nil || !HasFlag(want, `\seen`) || HasFlag(want, `\Deleted`) {
		t.Error("SplitFlags/HasFlag")
	}
}

func TestMicrosAndNullID(t *testing.T) {
	if Micros(time.Time{}) != 0 || !FromMicros(0).IsZero() {
		t.Error("the zero time is not column 0")
	}
	now := time.Date(2026, 3, 8, 9, 30, 0, 123456000, time.UTC)
	if got := FromMicros(Micros(now)); !got.Equal(now) {
		t.Errorf("round trip: %v", got)
	}
	if NullID(0) != nil || NullID(7) != int64(7) {
		t.Error("NullID")
	}
}
