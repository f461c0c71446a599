package lifecycle

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"govmail/internal/textfold"
)

// MaxStaffList bounds one request's staff list: a large commune has a few
// hundred people.
const MaxStaffList = 2000

// staffColumn maps a folded header name, Vietnamese or English, to a field.
func staffColumn(folded string) string {
	switch folded {
	case "fullname", "name", "hoten", "hovaten":
		return "name"
	case "birthyear", "namsinh":
		return "year"
	case "unit", "donvi":
		return "unit"
	}
	return ""
}

// ReadStaffList reads the staff list of a create request (R16.2): a header row
// naming at least the full name (full_name, “Họ và tên”) and optionally the
// birth year (birth_year, “Năm sinh”) and the sub-unit (unit, “Đơn vị”, its
// local part). Excel in a Vietnamese locale writes ';' between fields (',' is
// the decimal mark), so the separator is taken from the header row. Every
// problem of the file is listed in one *Error, by line, so that a unit fixes
// its list once.
func ReadStaffList(r io.Reader) ([]PersonSpec, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read staff list: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) {
		return nil, refuse("Tệp phải được lưu dạng CSV UTF-8 (TCVN 6909:2001).", "The file must be saved as CSV UTF-8 (TCVN 6909:2001).")
	}
	head, _, _ := bufio.NewReader(bytes.NewReader(data)).ReadLine()
	cr := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(head, []byte(";")) > bytes.Count(head, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, refuse("Tệp trống hoặc không phải CSV.", "The file is empty or not CSV.")
	}
	col := map[string]int{}
	for i, h := range header {
		if f := staffColumn(textfold.Label(h)); f != "" {
			if _, dup := col[f]; !dup {
				col[f] = i
			}
		}
	}
	if _, ok := col["name"]; !ok {
		return nil, refuse("Tệp thiếu cột họ tên (full_name hoặc “Họ và tên”).", "The file has no name column (full_name or “Họ và tên”).")
	}
	var out []PersonSpec
	var vi, en []string
	bad := func(line int, v, e string) {
		vi = append(vi, fmt.Sprintf("dòng %d: %s", line, v))
		en = append(en, fmt.Sprintf("line %d: %s", line, e))
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			bad(line, "không đọc được", "cannot be read")
			break
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue // Excel leaves empty rows at the end
		}
		p := PersonSpec{FullName: strings.Join(strings.Fields(get("name")), " "), UnitLP: strings.ToLower(get("unit"))}
		if p.FullName == "" {
			bad(line, "thiếu họ tên", "the name is missing")
		}
		if y := get("year"); y != "" {
			n, err := strconv.Atoi(y)
			if err != nil || n < 1900 || n > 2100 {
				bad(line, "năm sinh không hợp lệ", "the birth year is invalid")
			}
			p.BirthYear = n
		}
		out = append(out, p)
		if len(out) > MaxStaffList {
			return nil, refuse(fmt.Sprintf("Tối đa %d người một đề nghị.", MaxStaffList), fmt.Sprintf("At most %d people per request.", MaxStaffList))
		}
	}
	if len(vi) > 0 {
		return nil, refuse("Danh sách có lỗi: "+strings.Join(vi, "; "), "The list has errors: "+strings.Join(en, "; "))
	}
	if len(out) == 0 {
		return nil, refuse("Danh sách không có ai.", "The list names nobody.")
	}
	return out, nil
}
