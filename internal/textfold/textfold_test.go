package textfold

import "testing"

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
