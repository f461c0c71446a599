package store

import "strings"

// The helpers below are rules both SQL backends apply in Go, kept here once so
// that the two cannot drift apart (the SQL around them differs per dialect).

// CanonMailboxName makes INBOX, and the INBOX/ prefix of its children,
// case-insensitive (RFC 3501 5.1); every other name is kept as given.
func CanonMailboxName(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	if len(name) > 6 && strings.EqualFold(name[:6], "INBOX/") {
		return "INBOX" + name[5:]
	}
	return name
}

// ApplyFlags is the flag list a STORE of op with flags (normalised by
// NormFlags) leaves on a message whose stored list is old.
func ApplyFlags(op FlagOp, old, flags []string) []string {
	switch op {
	case FlagsSet:
		return flags
	case FlagsAdd:
		return NormFlags(append(append([]string{}, old...), flags...))
	case FlagsRemove:
		var out []string
		for _, f := range old {
			if !HasFlag(flags, f) {
				out = append(out, f)
			}
		}
		return out
	}
	return nil
}

// UIDSpan is the smallest range holding every UID of uids, so that a backend
// reads one index range instead of binding thousands of parameters; an empty
// list gives the empty range 1..0.
func UIDSpan(uids []uint32) (lo, hi uint32) {
	if len(uids) == 0 {
		return 1, 0
	}
	lo, hi = uids[0], uids[0]
	for _, u := range uids {
		lo, hi = min(lo, u), max(hi, u)
	}
	return lo, hi
}

// UIDSet is uids as a set, to filter the rows of a UIDSpan read.
func UIDSet(uids []uint32) map[uint32]bool {
	set := make(map[uint32]bool, len(uids))
	for _, u := range uids {
		set[u] = true
	}
	return set
}

// LogFor is the transaction-log row of this target once its outcome is known
// (err nil: stored): a stored message keeps a preset Status (e.g. quarantined)
// or is delivered; a refused one records why.
func (t DeliveryTarget) LogFor(err error) LogEntry {
	e := *t.Log
	switch {
	case err != nil:
		e.Status, e.Error = LogRefused, err.Error()
	case e.Status == "":
		e.Status = LogDelivered
	}
	return e
}
