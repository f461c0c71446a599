package store

import (
	"slices"
	"strings"
	"time"
)

// The helpers below are how both SQL backends put Go values into columns and
// read them back, kept here so that the two encode the same way and a database
// copied by `govmail migrate` means the same thing on either side.

// Micros is the column value of a time: microseconds since 1970 UTC, 0 for the
// zero time.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// FromMicros reverses Micros.
func FromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v)
}

// NullID stores the id 0 ("none") as SQL NULL, so that foreign keys hold.
func NullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// NormFlags is the stored form of a flag list: without \Recent in any case (a
// session's state, never stored) and empty names, one of each flag whatever its case,
// sorted.
func NormFlags(flags []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		k := strings.ToLower(f)
		if f == "" || k == `\recent` || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// JoinFlags is the column value of a normalised flag list.
func JoinFlags(flags []string) string { return strings.Join(flags, " ") }

// SplitFlags reverses JoinFlags.
func SplitFlags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// HasFlag reports whether flags holds f, compared without case as IMAP does.
func HasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}
