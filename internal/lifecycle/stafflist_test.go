package lifecycle

import (
	"errors"
	"strings"
	"testing"
)

// R16.2: a unit's staff list, as Excel in a Vietnamese locale saves it or in
// English headers, becomes the people of one create request; every bad line is
// named at once.
func TestReadStaffListR16_2(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []PersonSpec
		err      string
	}{
		{"vietnamese excel", "\ufeffHọ và tên;Năm sinh;Đơn vị\r\nLường Văn  Tú;1995;VP.SKHCN\r\nQuàng Thị Mai;;\r\n;;\r\n",
			[]PersonSpec{{FullName: "Lường Văn Tú", BirthYear: 1995, UnitLP: "vp.skhcn"}, {FullName: "Quàng Thị Mai"}}, ""},
		{"english", "full_name,birth_year\nLò Văn Sáu,1990\n", []PersonSpec{{FullName: "Lò Văn Sáu", BirthYear: 1990}}, ""},
		{"no name column", "ten,nam\nA,1\n", nil, "thiếu cột họ tên"},
		{"bad lines", "full_name,birth_year\n,1990\nAn,19x\n", nil, "dòng 2: thiếu họ tên; dòng 3: năm sinh không hợp lệ"},
		{"empty", "full_name\n", nil, "không có ai"},
		{"not utf-8", "full_name\nL\xf2 V\xe3n\n", nil, "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadStaffList(strings.NewReader(tc.in))
			if tc.err != "" {
				var le *Error
				if !errors.As(err, &le) || !strings.Contains(le.VI, tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v", got)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("person %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
