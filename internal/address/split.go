package address

import "strings"

// Local is the part of a mail address before its last '@', or the whole
// string when it has none. Nothing is folded: callers compare it with stored,
// already canonical local parts.
func Local(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return addr[:at]
	}
	return addr
}

// Domain is the part of a mail address after its last '@', lower-cased and
// without the root's trailing dot (domains compare case-insensitively, RFC 5321
// 2.4), or "" when there is no '@'.
func Domain(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(addr[at+1:]), ".")
}
