package address

import "fmt"

// Code identifies why an address was refused, so that the directory, the portal and
// the API can map a refusal to their own reply without parsing message text.
type Code string

// Refusal codes. They are stable: callers store and compare them.
const (
	CodeEmptyName      Code = "empty_name"       // R5.2: the name folds to nothing
	CodeEmptyLocalPart Code = "empty_local_part" // R5.1: nothing to validate
	CodeBadCharacters  Code = "bad_characters"   // R5.1: outside [a-z0-9.]
	CodeBadDots        Code = "bad_dots"         // R5.1: empty label (leading, trailing or double dot)
	CodeTooLong        Code = "too_long"         // R5.10: 64 octets local part, 254 address
	CodeReserved       Code = "reserved"         // R5.11
	CodeTaken          Code = "taken"            // R5.5, R5.7: clash in the one namespace
)

// Error is every refusal of this package. Error() is the Vietnamese text because
// Vietnamese is the default language of every interface (DESIGN decision 6); EN is
// there for the English UI and for logs read by non-Vietnamese speakers.
type Error struct {
	Code Code
	VI   string
	EN   string
}

// Error returns the Vietnamese message.
func (e *Error) Error() string { return e.VI }

// English returns the English message.
func (e *Error) English() string { return e.EN }

// Is makes errors.Is(err, ErrReserved) true for every refusal with the same code,
// whatever its detailed message: the sentinels below carry generic text, the errors
// actually returned name the offending value.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is. Their messages are generic; returned errors are specific.
var (
	ErrEmptyName = &Error{CodeEmptyName,
		"Họ và tên không có chữ cái hoặc chữ số nào để tạo địa chỉ thư.",
		"The name has no letter or digit to build an address from."}
	ErrEmptyLocalPart = &Error{CodeEmptyLocalPart,
		"Phần tên hộp thư (trước @) không được để trống.",
		"The local part (before @) must not be empty."}
	ErrBadCharacters = &Error{CodeBadCharacters,
		"Phần tên hộp thư chỉ được gồm chữ thường không dấu a–z, chữ số 0–9 và dấu chấm.",
		"A local part may contain only lower-case letters a–z without diacritics, digits 0–9 and dots."}
	ErrBadDots = &Error{CodeBadDots,
		"Dấu chấm không được đứng đầu, đứng cuối hoặc đứng liền nhau trong phần tên hộp thư.",
		"A dot may not begin or end a local part, nor follow another dot."}
	ErrTooLong = &Error{CodeTooLong,
		"Địa chỉ thư quá dài: phần tên hộp thư tối đa 64 byte, cả địa chỉ tối đa 254 byte.",
		"The address is too long: at most 64 octets before @ and 254 octets in all."}
	ErrReserved = &Error{CodeReserved,
		"Đây là tên dành riêng của hệ thống, không được cấp cho đơn vị hay cá nhân.",
		"This is a reserved name; it is never assigned to a unit or a person."}
	ErrTaken = &Error{CodeTaken,
		"Địa chỉ thư này đã được sử dụng.",
		"This address is already in use."}
)

func errBadCharacters(lp string, r rune) error {
	return &Error{CodeBadCharacters,
		fmt.Sprintf("Phần tên hộp thư “%s” có ký tự không hợp lệ %q: chỉ được dùng chữ thường không dấu a–z, chữ số 0–9 và dấu chấm.", lp, r),
		fmt.Sprintf("The local part %q has the invalid character %q: only lower-case letters a–z without diacritics, digits 0–9 and dots are allowed.", lp, r)}
}

func errBadDots(lp string) error {
	return &Error{CodeBadDots,
		fmt.Sprintf("Phần tên hộp thư “%s” có dấu chấm ở đầu, ở cuối hoặc hai dấu chấm liền nhau.", lp),
		fmt.Sprintf("The local part %q begins or ends with a dot or has two dots in a row.", lp)}
}

func errLocalTooLong(lp string, max int) error {
	return &Error{CodeTooLong,
		fmt.Sprintf("Phần tên hộp thư “%s” dài %d byte, vượt quá giới hạn %d byte; người quản trị cần chọn tên ngắn hơn.", lp, len(lp), max),
		fmt.Sprintf("The local part %q is %d octets long, over the limit of %d; the operator must choose a shorter one.", lp, len(lp), max)}
}

func errAddressTooLong(addr string, max int) error {
	return &Error{CodeTooLong,
		fmt.Sprintf("Địa chỉ thư “%s” dài %d byte, vượt quá giới hạn %d byte; người quản trị cần chọn tên ngắn hơn.", addr, len(addr), max),
		fmt.Sprintf("The address %q is %d octets long, over the limit of %d; the operator must choose a shorter one.", addr, len(addr), max)}
}

func errReserved(lp string) error {
	return &Error{CodeReserved,
		fmt.Sprintf("“%s” là tên dành riêng của hệ thống, không được cấp cho đơn vị hay cá nhân.", lp),
		fmt.Sprintf("%q is a reserved name; it is never assigned to a unit or a person.", lp)}
}

func errTaken(lp string) error {
	return &Error{CodeTaken,
		fmt.Sprintf("Địa chỉ “%s” đã được sử dụng; hãy bổ sung chữ cái hoặc chọn tên khác.", lp),
		fmt.Sprintf("The address %q is already in use; add letters or choose another name.", lp)}
}

func errNoFreeSuffix(base, unit string, max int) error {
	return &Error{CodeTaken,
		fmt.Sprintf("Không còn hậu tố số nào trống cho “%s.%s” (đã thử đến %d); người quản trị cần chọn địa chỉ khác.", base, unit, max),
		fmt.Sprintf("No free numeric suffix for %q (tried up to %d); the operator must choose another address.", base+"."+unit, max)}
}
