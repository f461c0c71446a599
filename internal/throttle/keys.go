package throttle

import (
	"net"
	"net/netip"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// maxAccountKey bounds the memory an attacker's invented account names cost. Names
// longer than this share a key with their prefix, which only merges counters
// (stricter, never looser).
const maxAccountKey = 256

// invalidIP is the one key of every client address that cannot be parsed. Sharing
// it is the strict choice; callers must pass the real client address (for webmail
// and the API, the one the trusted proxy reports).
const invalidIP = "invalid"

// accountKey compares account names case-insensitively and in one Unicode form, so
// that "NguyenVanA", "nguyenvana" and an NFD spelling count against one account.
// It does not fold diacritics: "hop" and "họp" are different names.
func accountKey(account string) string {
	a := strings.TrimSpace(account)
	if len(a) > 4*maxAccountKey {
		a = a[:4*maxAccountKey] // bound the work below, not only the key
	}
	a = norm.NFC.String(strings.ToLower(a))
	if len(a) > maxAccountKey {
		a = a[:maxAccountKey]
	}
	return a
}

// ipKey reduces a client address to what is counted: an IPv4 address, or the
// IPv6 prefix of prefixBits (see Config.IPv6PrefixBits). IPv4-mapped IPv6 counts
// as IPv4, zones are dropped, and "host:port" or "[v6]:port" are accepted since
// that is what net.Conn.RemoteAddr().String() gives.
func ipKey(ip string, prefixBits int) string {
	s := strings.TrimSpace(ip)
	addr, err := netip.ParseAddr(s)
	if err != nil {
		host, _, splitErr := net.SplitHostPort(s)
		if splitErr != nil {
			host = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		}
		if addr, err = netip.ParseAddr(host); err != nil {
			return invalidIP
		}
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr.String()
	}
	p, err := addr.Prefix(prefixBits)
	if err != nil {
		return invalidIP
	}
	return p.String()
}

// pairKey joins an account key and an ip key. ipKey never contains NUL, so the
// last NUL separates them unambiguously whatever the account name holds.
func pairKey(account, ip string) string {
	return account + "\x00" + ip
}
