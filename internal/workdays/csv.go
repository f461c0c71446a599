package workdays

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// csvHeader returns the header of holidays-vn.csv; a function so that no caller can
// change it for everyone.
func csvHeader() []string { return []string{"date", "kind", "name_vi", "note"} }

// ParseCSV reads a calendar in the format of holidays-vn.csv: a header row
// "date,kind,name_vi,note", then one row per date with kind holiday or makeup_workday.
// Spreadsheet habits are tolerated (a UTF-8 byte-order mark, CR LF line ends, spaces
// around date and kind); anything that could change a deadline unnoticed — an
// impossible date, an unknown kind, a date listed twice, a make-up day on a weekday —
// is an error naming the line.
func ParseCSV(r io.Reader) ([]Entry, error) {
	want := csvHeader()
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(want)
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: empty file, expected header %s", ErrInvalidEntry, strings.Join(want, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEntry, err)
	}
	head[0] = strings.TrimPrefix(head[0], "\uFEFF")
	for i, h := range head {
		if strings.TrimSpace(h) != want[i] {
			return nil, fmt.Errorf("%w: header %q, expected %s", ErrInvalidEntry,
				strings.Join(head, ","), strings.Join(want, ","))
		}
	}

	var es []Entry
	line := make(map[Date]int)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%w: line %d: %v", ErrInvalidEntry, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%w: %v", ErrInvalidEntry, err)
		}
		n, _ := cr.FieldPos(0)
		d, err := Parse(strings.TrimSpace(rec[0]))
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrInvalidEntry, n, err)
		}
		k, err := ParseKind(strings.TrimSpace(rec[1]))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		e := Entry{Date: d, Kind: k, Name: rec[2], Note: rec[3]}
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if prev, dup := line[d]; dup {
			return nil, fmt.Errorf("%w: line %d: %s already listed on line %d", ErrInvalidEntry, n, d, prev)
		}
		line[d] = n
		es = append(es, e)
	}
	sortEntries(es)
	return es, nil
}

// LoadCSV reads a calendar file (see ParseCSV) into c. Every year that has a row in the
// file gets exactly the file's rows as its table, replacing the computed defaults or an
// earlier table — so the official 2025–2027 schedules win over computation, and an
// operator's file for 2028 replaces the computed 2028 once loaded. Years without rows
// are left alone. On error c is unchanged.
func (c *Calendar) LoadCSV(r io.Reader) error {
	es, err := ParseCSV(r)
	if err != nil {
		return err
	}
	ts := make(map[int]map[Date]Entry)
	for _, e := range es {
		t := ts[e.Date.y]
		if t == nil {
			t = make(map[Date]Entry)
			ts[e.Date.y] = t
		}
		t[e.Date] = e
	}
	c.replaceYears(ts)
	return nil
}

// WriteCSV writes every table of c (not the computed defaults of years without one) in
// the format ParseCSV reads, sorted by date, so that an operator's edits can be saved
// and reloaded.
func (c *Calendar) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader()); err != nil {
		return err
	}
	for _, e := range c.Entries() {
		if err := cw.Write([]string{e.Date.String(), e.Kind.String(), e.Name, e.Note}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
