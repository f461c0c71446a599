package ldapd

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// errInvalidDN is a distinguished name we cannot read (RFC 4514).
var errInvalidDN = errors.New("ldapd: invalid DN")

// rdn is one relative distinguished name, normalised: the attribute's
// canonical key and the value lower-cased. Every naming attribute of this
// directory (dc, ou, uid, mail) matches case-insensitively, so comparing
// normalised RDNs is comparing names.
type rdn struct {
	typ, val string
}

// parseDN reads a string DN (RFC 4514). Multi-valued RDNs and the '#hex' and
// quoted value forms are refused: no name of this directory has them, so a DN
// using them cannot name one of our entries.
func parseDN(s string) ([]rdn, error) {
	var out []rdn
	i := 0
	skipSpace := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	skipSpace()
	if i == len(s) {
		return nil, nil
	}
	for {
		skipSpace()
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ',' && s[i] != '+' && s[i] != ';' {
			i++
		}
		if i == len(s) || s[i] != '=' {
			return nil, errInvalidDN
		}
		typ := strings.TrimRight(s[start:i], " ")
		if !validType(typ) {
			return nil, errInvalidDN
		}
		i++ // '='
		skipSpace()
		if i < len(s) && (s[i] == '#' || s[i] == '"') {
			return nil, errInvalidDN
		}
		var val []byte
		keep := 0 // length of val that trailing-space trimming must not cut: up to the last escaped byte
		for i < len(s) && s[i] != ',' && s[i] != ';' && s[i] != '+' {
			c := s[i]
			switch {
			case c == '\\':
				if i+1 >= len(s) {
					return nil, errInvalidDN
				}
				n := s[i+1]
				if strings.IndexByte(` "#+,;<=>\`, n) >= 0 {
					val = append(val, n)
					i += 2
				} else if h, ok := unhex(s, i+1); ok {
					val = append(val, h)
					i += 3
				} else {
					return nil, errInvalidDN
				}
				keep = len(val)
			case c == '"' || c == '<' || c == '>' || c == 0:
				// RFC 4514 2.4: these must be escaped inside a value.
				return nil, errInvalidDN
			default:
				val = append(val, c)
				i++
			}
		}
		end := len(val)
		for end > keep && val[end-1] == ' ' {
			end--
		}
		val = val[:end]
		if !utf8.Valid(val) {
			return nil, errInvalidDN
		}
		out = append(out, rdn{typ: attrKey(typ), val: strings.ToLower(string(val))})
		if i == len(s) {
			return out, nil
		}
		if s[i] == '+' {
			return nil, errInvalidDN
		}
		i++ // ',' or ';'
	}
}

// validType accepts a descriptor (letter, then letters, digits, hyphens) or a
// numeric OID.
func validType(t string) bool {
	if t == "" {
		return false
	}
	if t[0] >= '0' && t[0] <= '9' {
		prev := byte('.')
		for i := 0; i < len(t); i++ {
			c := t[i]
			if c == '.' {
				if prev == '.' {
					return false
				}
			} else if c < '0' || c > '9' {
				return false
			}
			prev = c
		}
		return prev != '.'
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '-')) {
			return false
		}
	}
	return true
}

func unhex(s string, i int) (byte, bool) {
	if i+1 >= len(s) {
		return 0, false
	}
	hi, ok1 := hexVal(s[i])
	lo, ok2 := hexVal(s[i+1])
	return hi<<4 | lo, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// escapeValue escapes an attribute value for a string DN (RFC 4514 2.4).
func escapeValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == 0:
			b.WriteString(`\00`)
		case strings.IndexByte(`"+,;<>\`, c) >= 0,
			i == 0 && (c == ' ' || c == '#'),
			i == len(v)-1 && c == ' ':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// formatDN writes normalised RDNs back as a string DN.
func formatDN(rdns []rdn) string {
	parts := make([]string, len(rdns))
	for i, r := range rdns {
		parts[i] = attrName(r.typ) + "=" + escapeValue(r.val)
	}
	return strings.Join(parts, ",")
}

// hasSuffix tells whether dn ends with suffix.
func hasSuffix(dn, suffix []rdn) bool {
	if len(dn) < len(suffix) {
		return false
	}
	off := len(dn) - len(suffix)
	for i, r := range suffix {
		if dn[off+i] != r {
			return false
		}
	}
	return true
}
