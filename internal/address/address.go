// Package address owns the address rules of Điều 5 (REQUIREMENTS R5.1–R5.11): the
// personal base of a full name, the suffix chain on a clash, unit abbreviation
// suggestions, commune slugs, sub-unit addresses, and the validation every local part
// passes before it is assigned.
//
// It never looks anything up: whether a local part is taken (R5.7: accounts, aliases,
// quarantined addresses) is the caller's answer, given as a Taken callback, so the
// package stays pure and the directory decides what "taken" means.
package address

import (
	"strings"
)

// RFC 5321 limits (R5.10).
const (
	MaxLocalPartOctets = 64
	MaxAddressOctets   = 254
)

// DefaultDomain is the mail domain of the regulation; configuration may change it.
const DefaultDomain = "sonla.gov.vn"

// DefaultMaxSuffix bounds the search for a free numeric suffix (R5.4). Without a bound
// a Taken that always answers true would loop for ever; no unit has 9999 namesakes.
const DefaultMaxSuffix = 9999

// Taken reports whether a local part (lower-case, without @domain) is already used in
// the one namespace of R5.7. A nil Taken means nothing is taken.
type Taken func(localPart string) bool

// DefaultReserved returns the reserved local parts of R5.11. It returns a new slice on
// every call so that no caller can change another's list.
func DefaultReserved() []string {
	return []string{
		"postmaster", "abuse", "hostmaster", "webmaster", "mailer-daemon",
		"noreply", "root", "admin", "administrator", "security",
	}
}

// Rules is the configuration the address rules depend on. The zero value checks only
// the local part: no domain (so no address-length check), nothing reserved, and
// DefaultMaxSuffix.
type Rules struct {
	// Domain is the mail domain, for the 254-octet address limit of R5.10.
	Domain string
	// Reserved local parts (R5.11), matched case-insensitively against the whole
	// local part.
	Reserved []string
	// MaxSuffix is the largest numeric suffix tried on a clash (R5.4); 0 means
	// DefaultMaxSuffix.
	MaxSuffix int
}

// DefaultRules returns the regulation's configuration: sonla.gov.vn and the R5.11 list.
func DefaultRules() Rules {
	return Rules{Domain: DefaultDomain, Reserved: DefaultReserved(), MaxSuffix: DefaultMaxSuffix}
}

// Canonical returns a local part as it is stored and compared (R5.7): surrounding white
// space removed and ASCII letters lower-cased. Only ASCII is lower-cased on purpose:
// strings.ToLower maps the Kelvin sign K (U+212A) to "k", which would let a look-alike
// pass validation.
func Canonical(lp string) string {
	lp = strings.TrimSpace(lp)
	b := []byte(lp)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// ValidateLocalPart checks lp against DefaultRules (R5.1 character set, R5.10, R5.11).
func ValidateLocalPart(lp string) error { return DefaultRules().ValidateLocalPart(lp) }

// ValidateLocalPart checks that lp is one or more labels of [a-z0-9] joined by single
// dots (R5.1), fits R5.10, and is not reserved (R5.11). lp must already be canonical:
// upper case is refused rather than silently folded, so that what an operator sees
// validated is exactly what is stored.
func (r Rules) ValidateLocalPart(lp string) error {
	if err := r.validateSyntax(lp); err != nil {
		return err
	}
	if r.isReserved(lp) {
		return errReserved(lp)
	}
	return nil
}

// validateSyntax is ValidateLocalPart without the reserved-name check; the generator
// treats a reserved candidate as taken instead of refusing it.
func (r Rules) validateSyntax(lp string) error {
	if lp == "" {
		return ErrEmptyLocalPart
	}
	for _, c := range lp {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.') {
			return errBadCharacters(lp, c)
		}
	}
	if lp[0] == '.' || lp[len(lp)-1] == '.' || strings.Contains(lp, "..") {
		return errBadDots(lp)
	}
	if len(lp) > MaxLocalPartOctets {
		return errLocalTooLong(lp, MaxLocalPartOctets)
	}
	if r.Domain != "" {
		if addr := lp + "@" + r.Domain; len(addr) > MaxAddressOctets {
			return errAddressTooLong(addr, MaxAddressOctets)
		}
	}
	return nil
}

func (r Rules) isReserved(lp string) bool {
	c := Canonical(lp)
	for _, res := range r.Reserved {
		if Canonical(res) == c {
			return true
		}
	}
	return false
}

// CheckNew validates lp and refuses it when taken (R5.5: a clash of unit abbreviations
// is refused and the operator adds letters; R5.7: one namespace). It is what a unit,
// a sub-unit, a commune or an operator's override passes before it is created.
func (r Rules) CheckNew(lp string, taken Taken) error {
	if err := r.ValidateLocalPart(lp); err != nil {
		return err
	}
	if taken != nil && taken(lp) {
		return errTaken(lp)
	}
	return nil
}
