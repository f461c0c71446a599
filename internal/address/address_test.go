package address

import (
	"errors"
	"strings"
	"testing"
)

// taker is a directory in a map, the way the one namespace of R5.7 answers Taken.
type taker map[string]bool

func (m taker) taken(lp string) bool { return m[lp] }

// R5.2: the base of a full name.
func TestPersonalBase_R5_2(t *testing.T) {
	cases := []struct {
		name   string
		base   string
		review bool
	}{
		{"Cầm Thị Duyên", "duyenct", false}, // regulation example (Điều 5.2)
		{"Nguyễn Thị Hoa", "hoant", false},
		{"Nguyễn Thu Hòa", "hoant", false}, // middle name Thu, last syllable only
		{"Trần Hoàn", "hoant", false},      // R5.9: no middle name → same base
		{"Nguyễn Thị Ngọc Ánh", "anhntn", false},
		// Thái names.
		{"Lò Văn Hương", "huonglv", false},
		{"Cầm Bá Thước", "thuoccb", false},
		{"Quàng Thị Xuân", "xuanqt", false},
		{"Vì Văn Ỏn", "onvv", false},
		{"Tòng Thị Phương", "phuongtt", false},
		{"Lường Văn Ươn", "uonlv", false},
		{"Điêu Thị Ẻm", "emdt", false},
		// H'Mông names.
		{"Giàng A Dê", "dega", false},
		{"Sùng A Chứ", "chusa", false},
		{"Mùa Thị Dợ", "domt", false},
		{"Thào A Vàng", "vangta", false},
		{"Hờ A Của", "cuaha", false},
		{"Lầu Thị Chá", "chalt", false},
		// Dao, Mường, Khơ Mú, Ê Đê.
		{"Bàn Thị Mẩy", "maybt", false},
		{"Đinh Công Đạt", "datdc", false},
		{"Lò Văn Ín", "inlv", false},
		{"H'Mai Niê", "nieh", false}, // R5.2: given-name-first not detected
		// Forms of input.
		{"NGUYỄN THỊ HOA", "hoant", false},
		{"nguyễn thị hoa", "hoant", false},
		{"Nguye\u0302\u0303n Thi\u0323 Hoa", "hoant", false}, // NFD
		{"  Nguyễn \t Thị\u00a0\u00a0Hoa\n", "hoant", false}, // tab, NBSP, newline
		{"Nguyễn\u3000Thị\u2003Hoa", "hoant", false},         // ideographic and em space
		{"Ðặng Văn Nam", "namdv", false},                     // U+00D0 Eth
		{"ðặng văn nam", "namdv", false},                     // U+00F0 eth
		{"Nguyễn - Thị Hoa", "hoant", false},                 // a dash token folds to nothing
		{"Nguyễn Thị Hoa (con)", "connth", false},            // parentheses dropped, not detected as a note
		{"Nguyễn Văn 2", "2nv", false},
		{"Páo", "pao", true}, // one token: review
		{"  Páo  ", "pao", true},
		{"Páo -", "pao", true}, // the dash is dropped before counting tokens
		{"李 Hoa", "hoa", true}, // other scripts fold to nothing (R5.1 step 5)
	}
	for _, c := range cases {
		base, review, err := PersonalBase(c.name)
		if err != nil || base != c.base || review != c.review {
			t.Errorf("PersonalBase(%q) = %q, %v, %v; want %q, %v", c.name, base, review, err, c.base, c.review)
		}
	}
}

// R5.2: no token left → refused, with a bilingual typed error.
func TestPersonalBase_Empty_R5_2(t *testing.T) {
	for _, name := range []string{"", " ", "\t\n", "\u00a0\u3000", "- - -", "''", "李小龍", "\u0300\u0301"} {
		_, _, err := PersonalBase(name)
		if !errors.Is(err, ErrEmptyName) {
			t.Errorf("PersonalBase(%q) err = %v, want ErrEmptyName", name, err)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeEmptyName || e.Error() != e.VI || !strings.Contains(e.VI, "chữ cái") || e.EN == "" {
			t.Errorf("PersonalBase(%q): error not bilingual: %#v", name, err)
		}
	}
}

// R5.10: a base that can never fit a local part is refused at once.
func TestPersonalBase_TooLong_R5_10(t *testing.T) {
	_, _, err := PersonalBase("Nguyễn Văn " + strings.Repeat("a", 63))
	if !errors.Is(err, ErrTooLong) {
		t.Errorf("err = %v, want ErrTooLong", err)
	}
	base, _, err := PersonalBase("Nguyễn Văn " + strings.Repeat("a", 62))
	if err != nil || len(base) != 64 {
		t.Errorf("64-octet base: %q, %v", base, err)
	}
}

// R5.3, R5.4, R5.9: the regulation's chain in skhcn, then a fourth hoant without year.
func TestPersonalLocalPart_RegulationChain_R5_4(t *testing.T) {
	rules := DefaultRules()
	dir := taker{}
	steps := []struct {
		name string
		year int
		want string
	}{
		{"Nguyễn Thị Hoa", 0, "hoant.skhcn"},
		{"Nguyễn Thu Hòa", 1990, "hoant90.skhcn"},
		{"Trần Hoàn", 1988, "hoant88.skhcn"}, // R5.9: the regulation's typo read as this
		{"Nguyễn Tiến Hòa", 0, "hoant2.skhcn"},
		{"Ngô Thanh Hoa", 1990, "hoant3.skhcn"}, // 90 taken → smallest free integer
		{"Nông Thị Hoa", 2001, "hoant01.skhcn"}, // leading zero
		{"Nguyễn Thị Hoa", 2000, "hoant00.skhcn"},
		{"Cầm Thị Duyên", 0, "duyenct.skhcn"}, // regulation example
	}
	for _, s := range steps {
		base, _, err := PersonalBase(s.name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rules.PersonalLocalPart(base, "skhcn", s.year, dir.taken)
		if err != nil || got != s.want {
			t.Fatalf("%s (%d): got %q, %v; want %q", s.name, s.year, got, err, s.want)
		}
		dir[got] = true
	}
}

// R5.4: the integer suffix is the smallest free one, not the next after the largest.
func TestPersonalLocalPart_SmallestFree_R5_4(t *testing.T) {
	dir := taker{"hoant.skhcn": true, "hoant2.skhcn": true, "hoant4.skhcn": true}
	got, err := DefaultRules().PersonalLocalPart("hoant", "skhcn", 0, dir.taken)
	if err != nil || got != "hoant3.skhcn" {
		t.Errorf("got %q, %v; want hoant3.skhcn", got, err)
	}
	// The same base in another unit is no clash (names-vi row 7).
	got, err = DefaultRules().PersonalLocalPart("hoant", "snv", 1990, dir.taken)
	if err != nil || got != "hoant.snv" {
		t.Errorf("got %q, %v; want hoant.snv", got, err)
	}
	// Nil Taken: nothing is taken.
	got, err = DefaultRules().PersonalLocalPart("hoant", "snv", 0, nil)
	if err != nil || got != "hoant.snv" {
		t.Errorf("nil taken: got %q, %v", got, err)
	}
}

// R5.4: birth years of every shape give two digits.
func TestPersonalLocalPart_BirthYear_R5_4(t *testing.T) {
	cases := map[int]string{1990: "90", 1988: "88", 2001: "01", 2000: "00", 1909: "09", 85: "85", 5: "05"}
	for year, yy := range cases {
		dir := taker{"sonhv.mocchau": true}
		got, err := DefaultRules().PersonalLocalPart("sonhv", "mocchau", year, dir.taken)
		if want := "sonhv" + yy + ".mocchau"; err != nil || got != want {
			t.Errorf("year %d: got %q, %v; want %q", year, got, err, want)
		}
	}
	// Unknown (0) or nonsense (negative) years go straight to the integers.
	for _, year := range []int{0, -1990} {
		got, err := DefaultRules().PersonalLocalPart("sonhv", "mocchau", year, taker{"sonhv.mocchau": true}.taken)
		if err != nil || got != "sonhv2.mocchau" {
			t.Errorf("year %d: got %q, %v", year, got, err)
		}
	}
}

// R5.10: a generated local part over 64 octets is refused, also when only the suffix
// pushes it over; R5.10's 254-octet address limit applies with a long domain.
func TestPersonalLocalPart_TooLong_R5_10(t *testing.T) {
	rules := DefaultRules()
	base := strings.Repeat("a", 58) // + ".skhcn" = 64
	got, err := rules.PersonalLocalPart(base, "skhcn", 1990, nil)
	if err != nil || len(got) != 64 {
		t.Fatalf("64 octets must fit: %q, %v", got, err)
	}
	_, err = rules.PersonalLocalPart(base, "skhcn", 1990, taker{got: true}.taken)
	if !errors.Is(err, ErrTooLong) {
		t.Errorf("65 octets: err = %v, want ErrTooLong", err)
	}
	_, err = rules.PersonalLocalPart(base+"a", "skhcn", 0, nil)
	if !errors.Is(err, ErrTooLong) {
		t.Errorf("65 octets bare: err = %v, want ErrTooLong", err)
	}
	long := Rules{Domain: strings.Repeat("d", 250) + ".vn"}
	_, err = long.PersonalLocalPart("hoant", "skhcn", 0, nil)
	if !errors.Is(err, ErrTooLong) || !strings.Contains(err.Error(), "254") {
		t.Errorf("address over 254: err = %v", err)
	}
}

// R5.11, R5.7: a reserved candidate is treated as taken and skipped; an exhausted
// search ends with ErrTaken, not a hang.
func TestPersonalLocalPart_ReservedAndExhausted_R5_11(t *testing.T) {
	rules := DefaultRules()
	rules.Reserved = append(rules.Reserved, "hoant.skhcn")
	got, err := rules.PersonalLocalPart("hoant", "skhcn", 0, nil)
	if err != nil || got != "hoant2.skhcn" {
		t.Errorf("got %q, %v; want hoant2.skhcn", got, err)
	}
	all := func(string) bool { return true }
	rules.MaxSuffix = 50
	_, err = rules.PersonalLocalPart("hoant", "skhcn", 1990, all)
	if !errors.Is(err, ErrTaken) {
		t.Errorf("exhausted: err = %v, want ErrTaken", err)
	}
	// Zero MaxSuffix uses the default bound and still terminates.
	_, err = Rules{}.PersonalLocalPart("hoant", "skhcn", 0, all)
	if !errors.Is(err, ErrTaken) {
		t.Errorf("default bound: err = %v, want ErrTaken", err)
	}
}

// R5.1: the generator refuses a malformed base or unit instead of producing a bad address.
func TestPersonalLocalPart_BadInput_R5_1(t *testing.T) {
	rules := DefaultRules()
	cases := []struct {
		base, unit string
		want       error
	}{
		{"", "skhcn", ErrEmptyName},
		{"hoa.nt", "skhcn", ErrBadCharacters}, // a dot would make it a sub-unit address
		{"Hoant", "skhcn", ErrBadCharacters},
		{"hoànt", "skhcn", ErrBadCharacters},
		{"hoant", "", ErrEmptyLocalPart},
		{"hoant", "SKHCN", ErrBadCharacters},
		{"hoant", ".skhcn", ErrBadDots},
	}
	for _, c := range cases {
		_, err := rules.PersonalLocalPart(c.base, c.unit, 0, nil)
		if !errors.Is(err, c.want) {
			t.Errorf("(%q, %q): err = %v, want %v", c.base, c.unit, err, c.want)
		}
	}
}

// R5.1, R5.10, R5.11: ValidateLocalPart.
func TestValidateLocalPart_R5_1_R5_10_R5_11(t *testing.T) {
	ok := []string{
		"skhcn", "vptu", "snv", "sngv", "chiengcoi", "ht.skhcn", "vhxh.mocchau",
		"duyenct.skhcn", "hoant90.skhcn", "a", "0", "a.b.c", "admin.skhcn", "postmaster2",
		strings.Repeat("a", 64),
	}
	for _, lp := range ok {
		if err := ValidateLocalPart(lp); err != nil {
			t.Errorf("ValidateLocalPart(%q) = %v, want nil", lp, err)
		}
	}
	bad := []struct {
		lp   string
		want error
	}{
		{"", ErrEmptyLocalPart},
		{"Skhcn", ErrBadCharacters}, // stored lower-case (R5.7): canonicalise first
		{"hoa-nt", ErrBadCharacters},
		{"hoa_nt", ErrBadCharacters},
		{"hoa nt", ErrBadCharacters},
		{"hòa", ErrBadCharacters},
		{"đức", ErrBadCharacters},
		{"\u212aelvin", ErrBadCharacters}, // Kelvin sign, not K
		{"hoa+tag", ErrBadCharacters},
		{"\xff", ErrBadCharacters},
		{".skhcn", ErrBadDots},
		{"skhcn.", ErrBadDots},
		{"ht..skhcn", ErrBadDots},
		{".", ErrBadDots},
		{strings.Repeat("a", 65), ErrTooLong},
		{strings.Repeat("a.", 32) + "a", ErrTooLong},
	}
	for _, c := range bad {
		err := ValidateLocalPart(c.lp)
		if !errors.Is(err, c.want) {
			t.Errorf("ValidateLocalPart(%q) = %v, want %v", c.lp, err, c.want)
		}
	}
	// R5.11: the default list; mailer-daemon fails the character set before the list.
	for _, r := range DefaultReserved() {
		err := ValidateLocalPart(r)
		if r == "mailer-daemon" {
			if !errors.Is(err, ErrBadCharacters) {
				t.Errorf("%q: %v", r, err)
			}
			continue
		}
		if !errors.Is(err, ErrReserved) || !strings.Contains(err.Error(), "dành riêng") {
			t.Errorf("ValidateLocalPart(%q) = %v, want ErrReserved", r, err)
		}
	}
}

// R5.11: the list is configuration, matched case-insensitively; DefaultReserved hands
// out copies.
func TestReservedConfigurable_R5_11(t *testing.T) {
	if n := len(DefaultReserved()); n != 10 {
		t.Fatalf("R5.11 lists 10 names, got %d", n)
	}
	l := DefaultReserved()
	l[0] = "changed"
	if DefaultReserved()[0] != "postmaster" {
		t.Fatal("DefaultReserved shares its slice")
	}
	r := Rules{Reserved: []string{"Helpdesk", "  Info "}}
	for _, lp := range []string{"helpdesk", "info"} {
		if err := r.ValidateLocalPart(lp); !errors.Is(err, ErrReserved) {
			t.Errorf("%q: %v, want ErrReserved", lp, err)
		}
	}
	if err := r.ValidateLocalPart("postmaster"); err != nil {
		t.Errorf("postmaster not in this list: %v", err)
	}
}

// R5.7: local parts are stored lower-case; Canonical lower-cases ASCII only.
func TestCanonical_R5_7(t *testing.T) {
	cases := map[string]string{
		"HoaNT.SKHCN":    "hoant.skhcn",
		" skhcn ":        "skhcn",
		"\u212aelvin":    "\u212aelvin", // stays invalid, never becomes "kelvin"
		"ĐỨC":            "ĐỨc",         // only ASCII is lower-cased
		"":               "",
		"Admin":          "admin",
		"\tVHXH.Mocchau": "vhxh.mocchau",
	}
	for in, want := range cases {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

// R5.5: abbreviation suggestions, the regulation's and the brief's examples.
func TestSuggestAbbreviation_R5_5(t *testing.T) {
	cases := []struct {
		name    string
		subUnit bool
		want    string
	}{
		{"Sở Khoa học và Công nghệ", false, "skhcn"},
		{"Văn phòng Tỉnh ủy", false, "vptu"},
		{"Văn phòng Tỉnh uỷ", false, "vptu"}, // old tone placement
		{"Sở Nội vụ", false, "snv"},
		{"Sở Ngoại vụ", false, "snv"}, // the clash the operator resolves as sngv
		{"Sở Giáo dục và Đào tạo", false, "sgddt"},
		{"Sở Giáo dục VÀ Đào tạo", false, "sgddt"},
		{"So Giao duc va Dao tao", false, "sgddt"},                                                // typed without diacritics
		{"So\u031b\u0309 Gia\u0301o du\u0323c va\u0300 \u0110a\u0300o ta\u0323o", false, "sgddt"}, // NFD
		{"Sở Văn hóa, Thể thao và Du lịch", false, "svhttdl"},
		{"Phòng Hạ tầng", true, "ht"},
		{"phòng hạ tầng", true, "ht"},
		{"Phòng Văn hóa - Xã hội", true, "vhxh"},
		{"Phòng Văn hóa – Xã hội", true, "vhxh"}, // en dash
		{"Phòng Văn hóa-Xã hội", true, "vhxh"},   // dash without spaces still separates words
		{"Phòng Văn hóa - Xã hội", false, "pvhxh"},
		{"Văn phòng HĐND và UBND", true, "vphu"}, // only a leading Phòng is skipped
		{"Sở Vá Lưới", false, "svl"},             // vá is not và
		{"Ban Dân tộc H'Mông", false, "bdth"},    // apostrophe does not split
	}
	for _, c := range cases {
		got, err := SuggestAbbreviation(c.name, c.subUnit)
		if err != nil || got != c.want {
			t.Errorf("SuggestAbbreviation(%q, %v) = %q, %v; want %q", c.name, c.subUnit, got, err, c.want)
		}
	}
	for _, name := range []string{"", "và", "Phòng", " - "} {
		if _, err := SuggestAbbreviation(name, true); !errors.Is(err, ErrEmptyName) {
			t.Errorf("SuggestAbbreviation(%q) err = %v, want ErrEmptyName", name, err)
		}
	}
}

// R5.5, R5.7: a clash is refused (Sở Ngoại vụ after Sở Nội vụ), the operator adds
// letters, and reserved names are refused for units too (R5.11).
func TestCheckNew_Clash_R5_5_R5_7(t *testing.T) {
	rules := DefaultRules()
	dir := taker{}
	for _, name := range []string{"Sở Nội vụ", "Sở Ngoại vụ"} {
		s, err := SuggestAbbreviation(name, false)
		if err != nil {
			t.Fatal(err)
		}
		err = rules.CheckNew(s, dir.taken)
		if name == "Sở Ngoại vụ" {
			if !errors.Is(err, ErrTaken) || !strings.Contains(err.Error(), "snv") {
				t.Fatalf("clash not refused: %v", err)
			}
			s = "sngv" // the operator adds letters
			err = rules.CheckNew(s, dir.taken)
		}
		if err != nil {
			t.Fatal(err)
		}
		dir[s] = true
	}
	if !dir["snv"] || !dir["sngv"] {
		t.Fatalf("directory %v", dir)
	}
	if err := rules.CheckNew("admin", nil); !errors.Is(err, ErrReserved) {
		t.Errorf("admin as a unit: %v", err)
	}
	// R5.7: a sub-unit and a person cannot share xx.skhcn.
	dir["ht.skhcn"] = true
	if got, err := rules.PersonalLocalPart("ht", "skhcn", 0, dir.taken); err != nil || got != "ht2.skhcn" {
		t.Errorf("person beside sub-unit ht.skhcn: %q, %v; want ht2.skhcn", got, err)
	}
}

// R5.6: commune slugs, the regulation's example and forms of input.
func TestCommuneSlug_R5_6(t *testing.T) {
	cases := map[string]string{
		"Phường Chiềng Cơi":                   "chiengcoi", // regulation example
		"Xã Đoàn Kết":                         "doanket",
		"Phường Mộc Châu":                     "mocchau",
		"XÃ MƯỜNG É":                          "muonge",
		"xã Mường Chiên":                      "muongchien",
		"Xa\u0303 Mu\u031bo\u031b\u0300ng La": "muongla",   // NFD, also in the prefix
		"Chiềng Cơi":                          "chiengcoi", // no prefix
		"  Phường\tTô  Hiệu ":                 "tohieu",
		"Xa Lý":                               "xaly",  // no tone: not the prefix
		"Phường Xã Hội":                       "xahoi", // only the leading word is the prefix
	}
	for in, want := range cases {
		got, err := CommuneSlug(in)
		if err != nil || got != want {
			t.Errorf("CommuneSlug(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "Xã", "Phường -"} {
		if _, err := CommuneSlug(in); !errors.Is(err, ErrEmptyName) {
			t.Errorf("CommuneSlug(%q) err = %v, want ErrEmptyName", in, err)
		}
	}
	if _, err := CommuneSlug("Xã " + strings.Repeat("Mường ", 13)); !errors.Is(err, ErrTooLong) {
		t.Errorf("long slug: %v", err)
	}
}

// R5.1c, R5.5, R5.6: sub-unit addresses from the regulation.
func TestSubUnitLocalPart_R5_1c(t *testing.T) {
	rules := DefaultRules()
	build := func(name, parent string) string {
		abbr, err := SuggestAbbreviation(name, true)
		if err != nil {
			t.Fatal(err)
		}
		lp, err := rules.SubUnitLocalPart(abbr, parent)
		if err != nil {
			t.Fatal(err)
		}
		return lp
	}
	if got := build("Phòng Hạ tầng", "skhcn"); got != "ht.skhcn" {
		t.Errorf("got %q, want ht.skhcn", got)
	}
	mocchau, err := CommuneSlug("Phường Mộc Châu")
	if err != nil {
		t.Fatal(err)
	}
	if got := build("Phòng Văn hóa - Xã hội", mocchau); got != "vhxh.mocchau" {
		t.Errorf("got %q, want vhxh.mocchau", got)
	}
	if got, err := rules.SubUnitLocalPart("HT", "SKHCN"); err != nil || got != "ht.skhcn" {
		t.Errorf("upper case: %q, %v", got, err)
	}
	for _, c := range [][2]string{{"", "skhcn"}, {"ht", ""}} {
		if _, err := rules.SubUnitLocalPart(c[0], c[1]); !errors.Is(err, ErrEmptyLocalPart) {
			t.Errorf("%q: %v", c, err)
		}
	}
	if _, err := rules.SubUnitLocalPart("h-t", "skhcn"); !errors.Is(err, ErrBadCharacters) {
		t.Errorf("h-t: %v", err)
	}
	if _, err := rules.SubUnitLocalPart(strings.Repeat("x", 60), "skhcn"); !errors.Is(err, ErrTooLong) {
		t.Errorf("long: %v", err)
	}
}

// Every refusal is bilingual: Error() is Vietnamese, EN is English, errors.Is works on
// the code whatever the detail.
func TestErrorsBilingual(t *testing.T) {
	errs := []error{
		ErrEmptyName, ErrEmptyLocalPart, ErrBadCharacters, ErrBadDots, ErrTooLong, ErrReserved, ErrTaken,
		errBadCharacters("a-b", '-'), errBadDots(".a"), errLocalTooLong("x", 64),
		errAddressTooLong("x@y", 254), errReserved("admin"), errTaken("snv"), errNoFreeSuffix("a", "b", 9),
	}
	vietnamese := "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
	for _, err := range errs {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%v is not *Error", err)
		}
		if e.Error() != e.VI || e.English() != e.EN || e.EN == "" || e.Code == "" {
			t.Errorf("%#v", e)
		}
		if !strings.ContainsAny(e.VI, vietnamese) {
			t.Errorf("VI message without diacritics: %q", e.VI)
		}
		if strings.ContainsAny(e.EN, vietnamese) && e.Code != CodeBadCharacters {
			t.Errorf("EN message in Vietnamese: %q", e.EN)
		}
	}
	if errors.Is(errReserved("admin"), ErrTaken) || !errors.Is(errNoFreeSuffix("a", "b", 1), ErrTaken) {
		t.Error("errors.Is does not follow the code")
	}
}
