// Package password owns the password rules of Điều 6 (REQUIREMENTS R6.1–R6.4): the
// composition policy and its floors, the extra checks the regulation allows (common
// passwords, the holder's name or address, history), argon2id hashing with bcrypt
// accepted for imported accounts, one-time passwords, and the calendar-month expiry of
// rule C2.
//
// It never stores anything and never reads the clock: the account's hashes, its
// password date and "now" are the caller's, so that the lifecycle jobs and the login
// path decide when to ask and the rules stay testable.
package password

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"govmail/internal/textfold"
)

// The regulation's floors (Điều 6, R6.4). Configuration may be stricter, never looser.
const (
	FloorMinLength      = 8
	CeilingMaxAgeMonths = 3
	// RequiredSpecials are the seven special characters of Điều 6.2; they always count.
	RequiredSpecials = "!@#%$*&"
)

// MinPartLength is the shortest name or address part looked for inside a password:
// shorter parts ("lo", "ha") occur by chance in good passwords.
const MinPartLength = 3

// Policy is the password configuration. The zero value is usable: Check and the expiry
// functions apply the regulation's floors whatever the fields say (see effective).
type Policy struct {
	// MinLength in characters; at least FloorMinLength.
	MinLength int
	// Specials are the characters that count as "special"; must include all of
	// RequiredSpecials and may add other printable ASCII symbols.
	Specials string
	// MaxAgeMonths is the password's life in calendar months (C2); 1 to 3.
	MaxAgeMonths int
	// History is how many previous passwords may not be reused; 0 turns it off.
	History int
	// ReminderDays are the days before the last valid day on which a reminder is due
	// (R6.2: 14, 7, 1).
	ReminderDays []int
}

// DefaultPolicy returns the regulation's values.
func DefaultPolicy() Policy {
	return Policy{
		MinLength:    FloorMinLength,
		Specials:     RequiredSpecials,
		MaxAgeMonths: CeilingMaxAgeMonths,
		History:      5,
		ReminderDays: []int{14, 7, 1},
	}
}

// Validate refuses a configuration below the regulation (R6.4): a minimum length under
// 8, a maximum age over 3 months or not positive, a special-character list missing one
// of the seven or holding letters, digits, space or non-ASCII. It lists every problem.
func (p Policy) Validate() error {
	var vs []Violation
	if p.MinLength < FloorMinLength {
		vs = append(vs, Violation{CodeMinLengthBelowFloor,
			fmt.Sprintf("Độ dài tối thiểu của mật khẩu là %d, thấp hơn mức tối thiểu %d ký tự của Điều 6.2.", p.MinLength, FloorMinLength),
			fmt.Sprintf("The minimum password length %d is below the floor of %d characters (Điều 6.2).", p.MinLength, FloorMinLength)})
	}
	if p.MaxAgeMonths <= 0 {
		vs = append(vs, Violation{CodeMaxAgeNotPositive,
			fmt.Sprintf("Thời hạn mật khẩu là %d tháng: phải từ 1 đến %d tháng (Điều 6.1).", p.MaxAgeMonths, CeilingMaxAgeMonths),
			fmt.Sprintf("The password maximum age is %d months: it must be 1 to %d months (Điều 6.1).", p.MaxAgeMonths, CeilingMaxAgeMonths)})
	} else if p.MaxAgeMonths > CeilingMaxAgeMonths {
		vs = append(vs, Violation{CodeMaxAgeAboveCeiling,
			fmt.Sprintf("Thời hạn mật khẩu là %d tháng, dài hơn mức tối đa %d tháng của Điều 6.1.", p.MaxAgeMonths, CeilingMaxAgeMonths),
			fmt.Sprintf("The password maximum age of %d months is above the ceiling of %d months (Điều 6.1).", p.MaxAgeMonths, CeilingMaxAgeMonths)})
	}
	var missing []rune
	for _, r := range RequiredSpecials {
		if !strings.ContainsRune(p.Specials, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		vs = append(vs, Violation{CodeSpecialsMissing,
			fmt.Sprintf("Danh sách ký tự đặc biệt phải gồm đủ bảy ký tự %s của Điều 6.2; còn thiếu: %s.", spaced(RequiredSpecials), spaced(string(missing))),
			fmt.Sprintf("The special characters must include all seven of %s (Điều 6.2); missing: %s.", spaced(RequiredSpecials), spaced(string(missing)))})
	}
	for _, r := range p.Specials {
		if r <= ' ' || r > '~' || r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			vs = append(vs, Violation{CodeSpecialsInvalid,
				fmt.Sprintf("Ký tự đặc biệt %q không hợp lệ: chỉ được dùng ký hiệu ASCII in được, không phải chữ cái, chữ số hay dấu cách.", r),
				fmt.Sprintf("Special character %q is invalid: only printable ASCII symbols, not letters, digits or space.", r)})
			break
		}
	}
	if p.History < 0 {
		vs = append(vs, Violation{CodeHistoryNegative,
			fmt.Sprintf("Số mật khẩu cũ không được dùng lại là %d: không được là số âm.", p.History),
			fmt.Sprintf("The password history length is %d: it must not be negative.", p.History)})
	}
	for _, d := range p.ReminderDays {
		if d < 1 {
			vs = append(vs, Violation{CodeReminderInvalid,
				fmt.Sprintf("Ngày nhắc đổi mật khẩu %d không hợp lệ: phải nhắc trước ít nhất 1 ngày.", d),
				fmt.Sprintf("Reminder day %d is invalid: reminders come at least 1 day before.", d)})
			break
		}
	}
	if len(vs) > 0 {
		return &Error{Violations: vs}
	}
	return nil
}

// effective is p with the regulation's floors applied. Configuration is validated when
// it is loaded; this is the second line, so that a zero or hand-built Policy can never
// accept what Điều 6 refuses.
func (p Policy) effective() Policy {
	if p.MinLength < FloorMinLength {
		p.MinLength = FloorMinLength
	}
	if p.MaxAgeMonths <= 0 || p.MaxAgeMonths > CeilingMaxAgeMonths {
		p.MaxAgeMonths = CeilingMaxAgeMonths
	}
	specials := []byte(RequiredSpecials)
	for i := 0; i < len(p.Specials); i++ {
		if c := p.Specials[i]; c > ' ' && c <= '~' && !isAlnum(c) && strings.IndexByte(string(specials), c) < 0 {
			specials = append(specials, c)
		}
	}
	p.Specials = string(specials)
	if p.History < 0 {
		p.History = 0
	}
	return p
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// CheckContext is what Check knows about the account beyond the password itself.
type CheckContext struct {
	// Address of the account ("hoant.skhcn@sonla.gov.vn" or just the local part).
	Address string
	// FullName of the holder ("Nguyễn Thị Hoa"); empty for unit mailboxes.
	FullName string
	// PreviousHashes are the encoded hashes of earlier passwords, newest first; only
	// the first Policy.History are consulted.
	PreviousHashes []string
	// Verify compares a password with an encoded hash; nil means this package's Verify.
	// It is a field so that callers (and tests) can use their own verifier.
	Verify func(encoded, password string) (bool, error)
}

// Check returns nil when pw is acceptable, else an *Error listing every rule broken:
// R6.3 (length, upper, lower, digit, special of the configured set, printable ASCII
// only) and the extra checks of R6.4 (the address or the given name inside the
// password, a common password, one of the last History passwords).
//
// A previous hash that cannot be parsed is skipped rather than failing the check: the
// history check is an extra the regulation allows, and a damaged history entry must not
// stop a user from setting a good password.
func (p Policy) Check(pw string, ctx CheckContext) error {
	p = p.effective()
	var vs []Violation

	var n int
	var upper, lower, digit, special, nonASCII bool
	for _, r := range pw {
		n++
		switch {
		case r < 0x20 || r > 0x7e:
			nonASCII = true // includes utf8.RuneError from invalid bytes
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(p.Specials, r):
			special = true
		}
	}
	if n < p.MinLength {
		vs = append(vs, vTooShort(p.MinLength, n))
	}
	if !upper {
		vs = append(vs, *ErrNoUpper)
	}
	if !lower {
		vs = append(vs, *ErrNoLower)
	}
	if !digit {
		vs = append(vs, *ErrNoDigit)
	}
	if !special {
		vs = append(vs, vNoSpecial(p.Specials))
	}
	if nonASCII {
		vs = append(vs, vNonASCII())
	}

	lpw := strings.ToLower(pw)
	if part := addressPartIn(lpw, ctx.Address); part != "" {
		vs = append(vs, vContainsAddress(part))
	}
	if given := givenName(ctx.FullName); len(given) >= MinPartLength && strings.Contains(lpw, given) {
		vs = append(vs, vContainsName())
	}
	if isCommon(lpw) {
		vs = append(vs, vCommon())
	}
	if p.History > 0 && len(ctx.PreviousHashes) > 0 {
		verify := ctx.Verify
		if verify == nil {
			verify = Verify
		}
		hs := ctx.PreviousHashes
		if len(hs) > p.History {
			hs = hs[:p.History]
		}
		for _, h := range hs {
			if ok, err := verify(h, pw); err == nil && ok {
				vs = append(vs, vReused(p.History))
				break
			}
		}
	}

	if len(vs) > 0 {
		return &Error{Violations: vs}
	}
	return nil
}

// addressPartIn returns the first part of the address's local part (the whole local
// part, each dot-separated label, each label without its numeric suffix) of at least
// MinPartLength characters found in the lower-cased password, or "".
// "hoant90.skhcn" gives hoant90.skhcn, hoant90, hoant, skhcn: "Skhcn@2025" and
// "Hoant@1990" are both refused.
func addressPartIn(lpw, address string) string {
	lp := address
	if i := strings.LastIndexByte(lp, '@'); i >= 0 {
		lp = lp[:i]
	}
	lp = strings.ToLower(strings.TrimSpace(lp))
	parts := []string{lp}
	for _, label := range strings.Split(lp, ".") {
		parts = append(parts, label, strings.TrimRight(label, "0123456789"))
	}
	for _, part := range parts {
		if len(part) >= MinPartLength && strings.Contains(lpw, part) {
			return part
		}
	}
	return ""
}

// givenName is the folded last token of a full name, as R5.2 takes it for the address.
func givenName(fullName string) string {
	toks := strings.FieldsFunc(fullName, unicode.IsSpace)
	for i := len(toks) - 1; i >= 0; i-- {
		if f := textfold.Label(toks[i]); f != "" {
			return f
		}
	}
	return ""
}

//go:embed common.txt
var commonText string

// common is the built-in list, lower-cased, built once and only read.
var common = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = true
	}
	return m
}()

// isCommon compares case-insensitively: "PASSWORD1!" is as guessable as "Password1!".
func isCommon(lpw string) bool { return common[lpw] }
