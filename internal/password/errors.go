package password

import (
	"fmt"
	"strings"
)

// Code identifies one broken rule, so that the web UI, the API and the admin tool can
// show their own text or highlight a field without parsing messages.
type Code string

// Codes of Check (R6.3 and the extra checks R6.4 allows).
const (
	CodeTooShort        Code = "too_short"
	CodeNoUpper         Code = "no_upper"
	CodeNoLower         Code = "no_lower"
	CodeNoDigit         Code = "no_digit"
	CodeNoSpecial       Code = "no_special"
	CodeNonASCII        Code = "non_ascii"
	CodeContainsAddress Code = "contains_address"
	CodeContainsName    Code = "contains_name"
	CodeCommon          Code = "common"
	CodeReused          Code = "reused"
)

// Codes of Policy.Validate (R6.4: configuration may not go below the regulation).
const (
	CodeMinLengthBelowFloor Code = "min_length_below_floor"
	CodeMaxAgeAboveCeiling  Code = "max_age_above_ceiling"
	CodeMaxAgeNotPositive   Code = "max_age_not_positive"
	CodeSpecialsMissing     Code = "specials_missing"
	CodeSpecialsInvalid     Code = "specials_invalid"
	CodeHistoryNegative     Code = "history_negative"
	CodeReminderInvalid     Code = "reminder_invalid"
)

// Violation is one broken rule with its Vietnamese and English text.
type Violation struct {
	Code Code
	VI   string
	EN   string
}

// Error returns the Vietnamese text (Vietnamese first, DESIGN decision 6).
func (v *Violation) Error() string { return v.VI }

// Is matches any violation with the same code, so errors.Is(err, ErrNoUpper) holds
// whatever the detailed text (which may name the minimum length or the characters).
func (v *Violation) Is(target error) bool {
	t, ok := target.(*Violation)
	return ok && t.Code == v.Code
}

// Error is a refusal listing every rule broken (R6.3: "a refusal names every rule the
// password breaks"), and the refusal of a policy below the floors (R6.4).
type Error struct {
	Violations []Violation
}

// Error returns every Vietnamese message, one sentence after another.
func (e *Error) Error() string {
	vi := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		vi[i] = v.VI
	}
	return strings.Join(vi, " ")
}

// English returns every English message, one sentence after another.
func (e *Error) English() string {
	en := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		en[i] = v.EN
	}
	return strings.Join(en, " ")
}

// Has reports whether the refusal includes a violation with code c.
func (e *Error) Has(c Code) bool {
	for _, v := range e.Violations {
		if v.Code == c {
			return true
		}
	}
	return false
}

// Codes lists the codes of the violations, in the order they were found.
func (e *Error) Codes() []Code {
	cs := make([]Code, len(e.Violations))
	for i, v := range e.Violations {
		cs[i] = v.Code
	}
	return cs
}

// Unwrap exposes each violation to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	errs := make([]error, len(e.Violations))
	for i := range e.Violations {
		errs[i] = &e.Violations[i]
	}
	return errs
}

// Sentinels for errors.Is. Their text is generic; Check and Validate return specific
// text (the configured minimum length, the configured special characters).
var (
	ErrTooShort        = &Violation{Code: CodeTooShort, VI: "Mật khẩu quá ngắn.", EN: "The password is too short."}
	ErrNoUpper         = &Violation{Code: CodeNoUpper, VI: "Mật khẩu phải có ít nhất một chữ in hoa (A–Z).", EN: "The password must contain at least one upper-case letter (A–Z)."}
	ErrNoLower         = &Violation{Code: CodeNoLower, VI: "Mật khẩu phải có ít nhất một chữ thường (a–z).", EN: "The password must contain at least one lower-case letter (a–z)."}
	ErrNoDigit         = &Violation{Code: CodeNoDigit, VI: "Mật khẩu phải có ít nhất một chữ số (0–9).", EN: "The password must contain at least one digit (0–9)."}
	ErrNoSpecial       = &Violation{Code: CodeNoSpecial, VI: "Mật khẩu phải có ít nhất một ký tự đặc biệt.", EN: "The password must contain at least one special character."}
	ErrNonASCII        = &Violation{Code: CodeNonASCII, VI: "Mật khẩu có ký tự không được phép.", EN: "The password contains characters that are not allowed."}
	ErrContainsAddress = &Violation{Code: CodeContainsAddress, VI: "Mật khẩu không được chứa tên hộp thư.", EN: "The password must not contain the mailbox name."}
	ErrContainsName    = &Violation{Code: CodeContainsName, VI: "Mật khẩu không được chứa tên của người dùng.", EN: "The password must not contain the holder's name."}
	ErrCommon          = &Violation{Code: CodeCommon, VI: "Mật khẩu quá phổ biến.", EN: "The password is too common."}
	ErrReused          = &Violation{Code: CodeReused, VI: "Mật khẩu đã được dùng gần đây.", EN: "The password was used recently."}

	ErrMinLengthBelowFloor = &Violation{Code: CodeMinLengthBelowFloor, VI: "Độ dài tối thiểu thấp hơn quy định.", EN: "The minimum length is below the regulation's floor."}
	ErrMaxAgeAboveCeiling  = &Violation{Code: CodeMaxAgeAboveCeiling, VI: "Thời hạn mật khẩu dài hơn quy định.", EN: "The maximum age is above the regulation's ceiling."}
	ErrMaxAgeNotPositive   = &Violation{Code: CodeMaxAgeNotPositive, VI: "Thời hạn mật khẩu phải lớn hơn 0.", EN: "The maximum age must be positive."}
	ErrSpecialsMissing     = &Violation{Code: CodeSpecialsMissing, VI: "Thiếu ký tự đặc biệt bắt buộc.", EN: "Required special characters are missing."}
	ErrSpecialsInvalid     = &Violation{Code: CodeSpecialsInvalid, VI: "Ký tự đặc biệt không hợp lệ.", EN: "Invalid special character."}
	ErrHistoryNegative     = &Violation{Code: CodeHistoryNegative, VI: "Số mật khẩu cũ không được âm.", EN: "The history length must not be negative."}
	ErrReminderInvalid     = &Violation{Code: CodeReminderInvalid, VI: "Ngày nhắc đổi mật khẩu không hợp lệ.", EN: "Invalid reminder day."}
)

// spaced writes "!@#" as "! @ #", the way the regulation lists them.
func spaced(s string) string {
	parts := make([]string, 0, len(s))
	for _, r := range s {
		parts = append(parts, string(r))
	}
	return strings.Join(parts, " ")
}

func vTooShort(min, got int) Violation {
	return Violation{CodeTooShort,
		fmt.Sprintf("Mật khẩu phải có ít nhất %d ký tự (mật khẩu này có %d).", min, got),
		fmt.Sprintf("The password must be at least %d characters long (this one has %d).", min, got)}
}

func vNoSpecial(specials string) Violation {
	return Violation{CodeNoSpecial,
		fmt.Sprintf("Mật khẩu phải có ít nhất một ký tự đặc biệt trong các ký tự %s; các ký hiệu khác được dùng nhưng không tính là ký tự đặc biệt.", spaced(specials)),
		fmt.Sprintf("The password must contain at least one of the special characters %s; other symbols are allowed but do not count.", spaced(specials))}
}

func vNonASCII() Violation {
	return Violation{CodeNonASCII,
		"Mật khẩu chỉ được gồm chữ cái không dấu, chữ số và ký hiệu ASCII in được: không dùng chữ có dấu, chữ đ, biểu tượng cảm xúc hay ký tự điều khiển (nhiều chương trình thư chỉ truyền đúng ký tự ASCII).",
		"The password may contain only unaccented letters, digits and printable ASCII symbols: no letters with diacritics, no đ, no emoji, no control characters (many mail clients carry only ASCII safely)."}
}

func vContainsAddress(part string) Violation {
	return Violation{CodeContainsAddress,
		fmt.Sprintf("Mật khẩu không được chứa tên hộp thư của bạn (“%s”).", part),
		fmt.Sprintf("The password must not contain your mailbox name (%q).", part)}
}

func vContainsName() Violation {
	return Violation{CodeContainsName,
		"Mật khẩu không được chứa tên của bạn.",
		"The password must not contain your name."}
}

func vCommon() Violation {
	return Violation{CodeCommon,
		"Mật khẩu này quá phổ biến và dễ bị đoán; hãy chọn mật khẩu khác.",
		"This password is too common and easy to guess; choose another one."}
}

func vReused(n int) Violation {
	return Violation{CodeReused,
		fmt.Sprintf("Mật khẩu không được trùng với %d mật khẩu gần nhất của bạn.", n),
		fmt.Sprintf("The password must differ from your last %d passwords.", n)}
}
