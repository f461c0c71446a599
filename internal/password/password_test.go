package password

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// vietnamese holds the letters that only Vietnamese text has; a VI message must use
// some of them (with diacritics), an EN message must not.
const vietnamese = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"

func codes(err error) []Code {
	var e *Error
	if !errors.As(err, &e) {
		return nil
	}
	return e.Codes()
}

// R6.3: the requirement's table, row by row, with exactly the violations each row has.
func TestCheck_R6_3_Table(t *testing.T) {
	cases := []struct {
		pw   string
		want []Code
	}{
		{"Abcdef1!", nil},                   // accepted: 8 characters, all four classes
		{"Abcdefg1", []Code{CodeNoSpecial}}, // no special character
		{"abcdef1!", []Code{CodeNoUpper}},   // no upper-case letter
		{"ABCDEF1!", []Code{CodeNoLower}},   // no lower-case letter
		{"Abcdefg!", []Code{CodeNoDigit}},   // no digit
		{"Abc1!", []Code{CodeTooShort}},     // shorter than 8
		{"Abcdef1^", []Code{CodeNoSpecial}}, // ^ is not one of the seven
		{"Mật1!khẩu", []Code{CodeNonASCII}}, // non-ASCII characters
		{"", []Code{CodeTooShort, CodeNoUpper, CodeNoLower, CodeNoDigit, CodeNoSpecial}},
	}
	p := DefaultPolicy()
	for _, c := range cases {
		err := p.Check(c.pw, CheckContext{})
		if got := codes(err); !slices.Equal(got, c.want) || (err == nil) != (c.want == nil) {
			t.Errorf("Check(%q) = %v (%v), want %v", c.pw, got, err, c.want)
		}
	}
}

// R6.3: each of the seven special characters counts; other printable ASCII is allowed
// but does not count.
func TestCheck_Specials_R6_3(t *testing.T) {
	p := DefaultPolicy()
	for _, s := range RequiredSpecials {
		if err := p.Check("Abcdef1"+string(s), CheckContext{}); err != nil {
			t.Errorf("special %q refused: %v", s, err)
		}
	}
	for _, s := range " ^~-_+=()[]{}<>?/\\|.,;:'\"`" {
		pw := "Abcdef1" + string(s)
		if got := codes(p.Check(pw, CheckContext{})); !slices.Equal(got, []Code{CodeNoSpecial}) {
			t.Errorf("Check(%q) = %v, want only no_special", pw, got)
		}
		if err := p.Check(pw+"!", CheckContext{}); err != nil {
			t.Errorf("Check(%q): %q is allowed beside a special: %v", pw+"!", s, err)
		}
	}
}

// R6.3: any character outside printable ASCII is refused with its own message.
func TestCheck_NonASCII_R6_3(t *testing.T) {
	p := DefaultPolicy()
	for _, pw := range []string{
		"Abcdef1!đ", "Abcdef1!é", "Abcdef1!😀", "Abcdef1!\x00", "Abcdef1!\t", "Abcdef1!\x7f",
		"Abcdef1!\n", "Abcdef1!\xff", "Abcdef1!\u00a0", "Abcdef1!\u212a", "Ａbcdef1!",
	} {
		err := p.Check(pw, CheckContext{})
		if !errors.Is(err, ErrNonASCII) {
			t.Errorf("Check(%q) = %v, want non_ascii", pw, err)
			continue
		}
		if !strings.Contains(err.Error(), "chữ có dấu") || !strings.Contains(err.(*Error).English(), "ASCII") {
			t.Errorf("Check(%q): message %q / %q", pw, err.Error(), err.(*Error).English())
		}
	}
}

// R6.3: "a refusal names every rule the password breaks, in Vietnamese (English
// available)": each rule's message is present in both languages.
func TestCheck_EveryMessage_R6_3(t *testing.T) {
	p := DefaultPolicy()
	err := p.Check("đ", CheckContext{})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Check: %v", err)
	}
	want := []Code{CodeTooShort, CodeNoUpper, CodeNoLower, CodeNoDigit, CodeNoSpecial, CodeNonASCII}
	if !slices.Equal(e.Codes(), want) {
		t.Fatalf("codes %v, want %v", e.Codes(), want)
	}
	vi, en := e.Error(), e.English()
	for _, v := range e.Violations {
		if !strings.Contains(vi, v.VI) || !strings.Contains(en, v.EN) {
			t.Errorf("%s: message missing from the refusal", v.Code)
		}
		// EN may name the letter đ ("no đ"), nothing else Vietnamese.
		if !strings.ContainsAny(v.VI, vietnamese) || strings.ContainsAny(v.EN, strings.ReplaceAll(vietnamese, "đ", "")) {
			t.Errorf("%s: VI %q / EN %q", v.Code, v.VI, v.EN)
		}
	}
	for _, frag := range []string{"ít nhất 8 ký tự", "chữ in hoa", "chữ thường", "chữ số", "! @ # % $ * &", "ASCII"} {
		if !strings.Contains(vi, frag) {
			t.Errorf("Vietnamese refusal lacks %q: %s", frag, vi)
		}
	}
	for _, frag := range []string{"at least 8 characters", "upper-case", "lower-case", "digit", "! @ # % $ * &", "ASCII"} {
		if !strings.Contains(en, frag) {
			t.Errorf("English refusal lacks %q: %s", frag, en)
		}
	}
	// errors.Is reaches every violation.
	for _, s := range []*Violation{ErrTooShort, ErrNoUpper, ErrNoLower, ErrNoDigit, ErrNoSpecial, ErrNonASCII} {
		if !errors.Is(err, s) {
			t.Errorf("errors.Is(err, %s) = false", s.Code)
		}
	}
	if errors.Is(err, ErrCommon) {
		t.Error("errors.Is matches a violation that is not there")
	}
	var v *Violation
	if !errors.As(err, &v) || v.Code != CodeTooShort {
		t.Errorf("errors.As *Violation: %v", v)
	}
}

// R6.3: length counts characters, and a stricter minimum is honoured (R6.4).
func TestCheck_Length_R6_3_R6_4(t *testing.T) {
	p := DefaultPolicy()
	if err := p.Check("Abcde1!", CheckContext{}); !errors.Is(err, ErrTooShort) || !strings.Contains(err.Error(), "có 7") {
		t.Errorf("7 characters: %v", err)
	}
	p.MinLength = 12
	if err := p.Check("Abcdefgh1!x", CheckContext{}); !errors.Is(err, ErrTooShort) || !strings.Contains(err.Error(), "ít nhất 12 ký tự") {
		t.Errorf("11 of 12: %v", err)
	}
	if err := p.Check("Abcdefgh1!xy", CheckContext{}); err != nil {
		t.Errorf("12 of 12: %v", err)
	}
}

// R6.4: Check never enforces less than the regulation, whatever the policy says; a
// configuration that adds specials makes them count.
func TestCheck_FloorsApplied_R6_4(t *testing.T) {
	if err := (Policy{}).Check("Abcdef1!", CheckContext{}); err != nil {
		t.Errorf("zero policy refuses a good password: %v", err)
	}
	if err := (Policy{MinLength: 4}).Check("Ab1!", CheckContext{}); !errors.Is(err, ErrTooShort) {
		t.Errorf("MinLength 4 honoured: %v", err)
	}
	weak := Policy{Specials: "^"}
	if err := weak.Check("Abcdef1&", CheckContext{}); err != nil {
		t.Errorf("& always counts: %v", err)
	}
	if err := weak.Check("Abcdef1^", CheckContext{}); err != nil {
		t.Errorf("a configured extra special counts: %v", err)
	}
	if err := (Policy{Specials: "a1"}).Check("Abcdefg1", CheckContext{}); !errors.Is(err, ErrNoSpecial) {
		t.Errorf("letters and digits never count as specials: %v", err)
	}
}

// R6.4 extra checks: the address's local part and the holder's given name.
func TestCheck_AddressAndName_R6_4(t *testing.T) {
	p := DefaultPolicy()
	ctx := CheckContext{Address: "hoant90.skhcn@sonla.gov.vn", FullName: "Nguyễn Thu Hòa"}
	cases := []struct {
		pw   string
		want []Code
	}{
		{"Hoant90.skhcn!", []Code{CodeContainsAddress, CodeContainsName}},
		{"Xy@Hoant90", []Code{CodeContainsAddress, CodeContainsName}},
		{"HOANT@1990", []Code{CodeNoLower, CodeContainsAddress, CodeContainsName}},
		{"Skhcn@2025", []Code{CodeContainsAddress}},
		{"Hoa@12345xyz", []Code{CodeContainsName}}, // given name hòa folds to hoa
		{"Tuyet@Voi99", nil},
		{"Gov@sonla1", nil}, // the domain is not the mailbox name
	}
	for _, c := range cases {
		got := codes(p.Check(c.pw, ctx))
		if !slices.Equal(got, c.want) {
			t.Errorf("Check(%q) = %v, want %v", c.pw, got, c.want)
		}
	}
	err := p.Check("Skhcn@2025", ctx)
	if !strings.Contains(err.Error(), "“skhcn”") || !strings.Contains(err.Error(), "tên hộp thư") {
		t.Errorf("message: %v", err)
	}
	// Parts shorter than 3 characters are not looked for: "on" (Lò Văn Ỏn) occurs in
	// good passwords by chance.
	short := CheckContext{Address: "on.ab", FullName: "Lò Văn Ỏn"}
	if err := p.Check("Xon@ab12345", short); err != nil {
		t.Errorf("short parts: %v", err)
	}
	// NFD name, a bare local part, upper-case address.
	nfd := CheckContext{Address: "DUYENCT.SKHCN", FullName: "Ca\u0302\u0300m Thi\u0323 Duye\u0302n"}
	if got := codes(p.Check("Duyen@2025x", nfd)); !slices.Equal(got, []Code{CodeContainsName}) {
		t.Errorf("NFD name: %v", got)
	}
	if got := codes(p.Check("Duyenct@25", nfd)); !slices.Equal(got, []Code{CodeContainsAddress, CodeContainsName}) {
		t.Errorf("upper-case bare address: %v", got)
	}
}

// R6.4 extra checks: the built-in list of common passwords, case-insensitive.
func TestCheck_Common_R6_4(t *testing.T) {
	p := DefaultPolicy()
	for _, pw := range []string{"Password1!", "PASSWORD1!x", "Abc@12345", "Admin@123", "Matkhau@123", "matkhau@123", "P@ssw0rd", "Sonla@2025"} {
		err := p.Check(pw, CheckContext{})
		if pw == "PASSWORD1!x" {
			if errors.Is(err, ErrCommon) {
				t.Errorf("%q is not on the list (whole-password match)", pw)
			}
			continue
		}
		if !errors.Is(err, ErrCommon) {
			t.Errorf("Check(%q) = %v, want common", pw, err)
		}
	}
	if n := len(common); n < 50 {
		t.Errorf("built-in list has %d entries, want about 50", n)
	}
	if common["abcdef1!"] {
		t.Error("the regulation's accepted example is on the common list")
	}
	// Every entry that passes R6.3 is refused only as common.
	for pw := range common {
		if pw == "" || strings.TrimSpace(pw) != pw {
			t.Errorf("bad entry %q", pw)
		}
	}
}

// R6.4 extra checks: history. Only the newest History hashes are consulted, newest
// first; a damaged hash is skipped.
func TestCheck_History_R6_4(t *testing.T) {
	fast := Params{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}
	var hashes []string
	for _, pw := range []string{"Newest1!a", "Second1!a", "Third1!ab", "Fourth1!a", "Fifth1!ab", "Sixth1!ab"} {
		h, err := fast.Hash(pw)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	p := DefaultPolicy()
	ctx := CheckContext{PreviousHashes: hashes}
	for _, pw := range []string{"Newest1!a", "Fifth1!ab"} {
		if err := p.Check(pw, ctx); !errors.Is(err, ErrReused) || !strings.Contains(err.Error(), "5 mật khẩu gần nhất") {
			t.Errorf("Check(%q) = %v, want reused", pw, err)
		}
	}
	if err := p.Check("Sixth1!ab", ctx); err != nil {
		t.Errorf("the 6th password back is allowed again: %v", err)
	}
	p.History = 0
	if err := p.Check("Newest1!a", ctx); err != nil {
		t.Errorf("History 0 turns the check off: %v", err)
	}
	// A caller's verifier, and a damaged entry skipped.
	calls := 0
	ctx = CheckContext{
		PreviousHashes: []string{"garbage", hashes[0]},
		Verify: func(enc, pw string) (bool, error) {
			calls++
			return Verify(enc, pw)
		},
	}
	if err := DefaultPolicy().Check("Newest1!a", ctx); !errors.Is(err, ErrReused) || calls != 2 {
		t.Errorf("custom verify: %v after %d calls", err, calls)
	}
}

// R6.4: configuration refuses values beyond the regulation's floors, listing every one.
func TestPolicyValidate_R6_4(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("default policy: %v", err)
	}
	d := DefaultPolicy()
	if d.MinLength != 8 || d.Specials != "!@#%$*&" || d.MaxAgeMonths != 3 || d.History != 5 || !slices.Equal(d.ReminderDays, []int{14, 7, 1}) {
		t.Fatalf("defaults: %+v", d)
	}
	mod := func(f func(*Policy)) Policy { p := DefaultPolicy(); f(&p); return p }
	cases := []struct {
		name string
		p    Policy
		want []Code
	}{
		{"min length 7", mod(func(p *Policy) { p.MinLength = 7 }), []Code{CodeMinLengthBelowFloor}},
		{"max age 4", mod(func(p *Policy) { p.MaxAgeMonths = 4 }), []Code{CodeMaxAgeAboveCeiling}},
		{"max age 0", mod(func(p *Policy) { p.MaxAgeMonths = 0 }), []Code{CodeMaxAgeNotPositive}},
		{"max age -1", mod(func(p *Policy) { p.MaxAgeMonths = -1 }), []Code{CodeMaxAgeNotPositive}},
		{"no &", mod(func(p *Policy) { p.Specials = "!@#%$*" }), []Code{CodeSpecialsMissing}},
		{"empty specials", mod(func(p *Policy) { p.Specials = "" }), []Code{CodeSpecialsMissing}},
		{"letter special", mod(func(p *Policy) { p.Specials = "!@#%$*&a" }), []Code{CodeSpecialsInvalid}},
		{"space special", mod(func(p *Policy) { p.Specials = "!@#%$*& " }), []Code{CodeSpecialsInvalid}},
		{"non-ASCII special", mod(func(p *Policy) { p.Specials = "!@#%$*&€" }), []Code{CodeSpecialsInvalid}},
		{"history -1", mod(func(p *Policy) { p.History = -1 }), []Code{CodeHistoryNegative}},
		{"reminder 0", mod(func(p *Policy) { p.ReminderDays = []int{14, 0} }), []Code{CodeReminderInvalid}},
		{"everything", Policy{MinLength: 6, MaxAgeMonths: 12, Specials: "!", History: -2},
			[]Code{CodeMinLengthBelowFloor, CodeMaxAgeAboveCeiling, CodeSpecialsMissing, CodeHistoryNegative}},
		{"zero", Policy{}, []Code{CodeMinLengthBelowFloor, CodeMaxAgeNotPositive, CodeSpecialsMissing}},
		// Stricter is allowed.
		{"stricter", Policy{MinLength: 14, MaxAgeMonths: 1, Specials: "&*$%#@!^~", History: 24, ReminderDays: []int{3}}, nil},
	}
	for _, c := range cases {
		err := c.p.Validate()
		if got := codes(err); !slices.Equal(got, c.want) || (err == nil) != (c.want == nil) {
			t.Errorf("%s: Validate() = %v (%v), want %v", c.name, got, err, c.want)
		}
	}
	err := mod(func(p *Policy) { p.Specials = "!@#%$*" }).Validate()
	if !strings.Contains(err.Error(), "còn thiếu: &") || !strings.Contains(err.(*Error).English(), "missing: &") {
		t.Errorf("message: %v", err)
	}
	if !errors.Is(err, ErrSpecialsMissing) {
		t.Error("errors.Is on a config violation")
	}
}

// R6.1: one-time passwords pass the default policy (1000 of them), have no look-alike
// characters, and differ.
func TestGenerate_R6_1(t *testing.T) {
	p := DefaultPolicy()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		pw := Generate()
		if err := p.Check(pw, CheckContext{}); err != nil {
			t.Fatalf("Generate() = %q: %v", pw, err)
		}
		if len(pw) != GeneratedLength {
			t.Fatalf("length %d", len(pw))
		}
		if strings.ContainsAny(pw, "Il1iOo0") {
			t.Fatalf("look-alike in %q", pw)
		}
		if seen[pw] {
			t.Fatalf("repeated %q", pw)
		}
		seen[pw] = true
	}
	long := Policy{MinLength: 20}
	if pw := long.Generate(CheckContext{}); len(pw) != 20 || long.Check(pw, CheckContext{}) != nil {
		t.Errorf("MinLength 20: %q", pw)
	}
	ctx := CheckContext{Address: "abc.xyz", FullName: "Nguyễn Văn Bcd", PreviousHashes: []string{"x"}}
	for i := 0; i < 200; i++ {
		if pw := p.Generate(ctx); p.Check(pw, CheckContext{Address: ctx.Address, FullName: ctx.FullName}) != nil {
			t.Fatalf("Generate(ctx) = %q fails the context", pw)
		}
	}
}
