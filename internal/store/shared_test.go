package store

import (
	"slices"
	"testing"
)

func TestCanonMailboxName(t *testing.T) {
	for in, want := range map[string]string{
		"inbox": "INBOX", "InBoX": "INBOX", "inbox/Đến": "INBOX/Đến", "Inbox/a/b": "INBOX/a/b",
		"inbox/": "inbox/", "Inboxes": "Inboxes", "Sent": "Sent", "": "",
	} {
		if got := CanonMailboxName(in); got != want {
			t.Errorf("CanonMailboxName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestApplyFlags(t *testing.T) {
	old := []string{`\Flagged`, `\Seen`}
	for _, tc := range []struct {
		op    FlagOp
		flags []string
		want  []string
	}{
		{FlagsSet, []string{`\Answered`}, []string{`\Answered`}},
		{FlagsSet, nil, nil},
		{FlagsAdd, []string{`\seen`, `\Answered`}, []string{`\Answered`, `\Flagged`, `\Seen`}},
		{FlagsRemove, []string{`\flagged`}, []string{`\Seen`}},
		{FlagsRemove, []string{`\Seen`, `\Flagged`}, nil},
	} {
		in := slices.Clone(old)
		got := ApplyFlags(tc.op, in, NormFlags(tc.flags))
		if !slices.Equal(got, tc.want) {
			t.Errorf("ApplyFlags(%v, %q, %q) = %q, want %q", tc.op, old, tc.flags, got, tc.want)
		}
		if !slices.Equal(in, old) {
			t.Errorf("ApplyFlags(%v) changed the stored list: %q", tc.op, in)
		}
	}
}

func TestUIDSpanAndSet(t *testing.T) {
	if lo, hi := UIDSpan(nil); lo <= hi {
		t.Errorf("UIDSpan(nil) = %d..%d, want an empty range", lo, hi)
	}
	if lo, hi := UIDSpan([]uint32{7, 3, 9, 4}); lo != 3 || hi != 9 {
		t.Errorf("UIDSpan = %d..%d, want 3..9", lo, hi)
	}
	set := UIDSet([]uint32{7, 3, 7})
	if len(set) != 2 || !set[3] || !set[7] || set[4] {
		t.Errorf("UIDSet = %v", set)
	}
}

func TestLogFor(t *testing.T) {
	base := LogEntry{Recipient: "a@sonla.gov.vn", Direction: "in"}
	quarantined := base
	quarantined.Status = LogQuarantined
	for _, tc := range []struct {
		log       LogEntry
		err       error
		status    string
		errorText string
	}{
		{base, nil, LogDelivered, ""},
		{quarantined, nil, LogQuarantined, ""},
		{quarantined, ErrQuotaExceeded, LogRefused, ErrQuotaExceeded.Error()},
		{base, ErrNotFound, LogRefused, ErrNotFound.Error()},
	} {
		l := tc.log
		got := DeliveryTarget{Log: &l}.LogFor(tc.err)
		if got.Status != tc.status || got.Error != tc.errorText || got.Recipient != base.Recipient {
			t.Errorf("LogFor(%v) from %+v = %+v", tc.err, tc.log, got)
		}
		if l != tc.log {
			t.Errorf("LogFor changed the target's preset row: %+v", l)
		}
	}
}
