package textfold

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// R5.1 and DESIGN decision 6: the fold is the same for NFC, NFD, old and new tone placement.
func TestLabelR51(t *testing.T) {
	cases := map[string]string{
		"Chiềng Cơi":             "chiengcoi",
		"Đoàn Kết":               "doanket",
		"Ươm":                    "uom",
		"Hoà":                    "hoa",
		"Hòa":                    "hoa",
		"Ðinh":                   "dinh",      // U+00D0
		"Chie\u0300ng Co\u031bi": "chiengcoi", // NFD
		"H'Mông":                 "hmong",
		"Mộc Châu - 2":           "mocchau2",
	}
	for in, want := range cases {
		if got := Label(in); got != want {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSearch(t *testing.T) {
	cases := map[string]string{
		"Cuộc họp  giao ban!":       "cuoc hop giao ban",
		"ĐẢNG":                      "dang",
		"  Đường dây nóng, Hà Nội ": "duong day nong ha noi",
	}
	for in, want := range cases {
		if got := Search(in); got != want {
			t.Errorf("Search(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSearch(f *testing.F) {
	f.Add("Cuộc họp")
	f.Add("\xff\xfe Đ")
	f.Fuzz(func(t *testing.T, s string) {
		out := Search(s)
		if Search(out) != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, Search(out))
		}
		l := Label(s)
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				t.Fatalf("Label(%q) has %q", s, r)
			}
		}
	})
}

// The table must agree with folding the whole string through NFD.
func TestTableMatchesNFD(t *testing.T) {
	for r := rune(0); r < tableEnd; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := string(r)
		var want []rune
		for _, x := range norm.NFD.String(s) {
			switch {
			case x == 'đ' || x == 'Đ' || x == 'ð' || x == 'Ð':
				want = append(want, 'd')
			case unicode.Is(unicode.Mn, x):
			case unicode.IsLetter(x) || unicode.IsDigit(x):
				want = append(want, unicode.ToLower(x))
			default:
				want = append(want, -1)
			}
		}
		got := foldRune(r)
		switch {
		case len(want) == 0 && got != 0:
			t.Errorf("%U: got %q, want a dropped mark", r, got)
		case len(want) > 0 && want[0] != got:
			t.Errorf("%U: got %q, want %q", r, got, want[0])
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	s := strings.Repeat("Kính gửi các đơn vị: đường dây nóng Hà Nội, cuộc họp giao ban. ", 1600)
	b.SetBytes(int64(len(s)))
	for i := 0; i < b.N; i++ {
		Search(s)
	}
}
