package report

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"govmail/internal/workdays"
)

// Formats a report renders to.
const (
	FormatHTML = "html"
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// Render writes r in format (html, csv or xlsx).
func Render(w io.Writer, r *Report, format string) error {
	switch format {
	case FormatHTML:
		return r.HTML(w)
	case FormatCSV:
		return r.CSV(w)
	case FormatXLSX:
		return r.XLSX(w)
	}
	return fmt.Errorf("report: unknown format %q (html, csv, xlsx)", format)
}

// FileName is the report's file name for format, ASCII so that every mail
// client and file system keeps it: bao-cao-thu-dien-tu_2026-11[_skhcn].xlsx.
func (r *Report) FileName(format string) string {
	n := "bao-cao-thu-dien-tu_" + r.Period.Key
	if r.Unit != nil {
		n += "_" + r.Unit.LocalPart
	}
	return n + "." + format
}

// TitleVI and TitleEN name the report.
func (r *Report) TitleVI() string {
	return "Báo cáo tình hình quản lý, sử dụng hệ thống thư điện tử " + r.Period.LabelVI()
}

// TitleEN names the report in English.
func (r *Report) TitleEN() string { return "E-mail system report, " + r.Period.LabelEN() }

// ScopeVI names the report's scope.
func (r *Report) ScopeVI() string {
	if r.Unit == nil {
		return "Toàn tỉnh Sơn La (các cơ quan, đơn vị, xã, phường)"
	}
	return r.Unit.Name + " và các đơn vị trực thuộc"
}

// ScopeEN names the report's scope in English.
func (r *Report) ScopeEN() string {
	if r.Unit == nil {
		return "the whole province"
	}
	return r.Unit.LocalPart + " and its sub-units"
}

func (r *Report) rowLabel(row Row) string {
	if row.Own {
		return row.Name + " (riêng đơn vị / own accounts)"
	}
	return row.Name
}

func (r *Report) totalLabel() string {
	if r.Unit == nil {
		return "Toàn tỉnh / Province total"
	}
	return "Tổng / Total"
}

func (r *Report) localTime(t time.Time) string {
	return t.In(workdays.Location()).Format("15:04 02/01/2006")
}

// notes explain how the figures are counted, in both languages.
func (r *Report) notes() [][2]string {
	return [][2]string{
		{"Trạng thái tài khoản tính tại thời điểm " + r.localTime(r.AsOf) + "; dung lượng và hạn mức là số liệu tại thời điểm lập báo cáo.",
			"Account states are taken at " + r.AsOf.In(workdays.Location()).Format(time.DateTime) + "; storage and quota are as of the time the report was made."},
		{fmt.Sprintf("Không đăng nhập quá %d ngày: tài khoản đang hoạt động có lần đăng nhập (hoặc ngày cấp, khôi phục, kết thúc vắng mặt) cuối cùng cách cuối kỳ quá %d ngày, không kể ngày đăng nhập (Điều 8.2).", r.IdleDays, r.IdleDays),
			fmt.Sprintf("No login for over %d days: active accounts whose last login (or creation, restore, end of a declared absence) is more than %d whole days before the end of the period (Art. 8.2).", r.IdleDays, r.IdleDays)},
		{"Đề nghị quá hạn: đề nghị khôi phục không được xử lý trong 3 ngày làm việc kể từ ngày tiếp nhận (Điều 8.3).",
			"Overdue: restore requests not handled within 3 working days of receipt (Art. 8.3)."},
		{"Thư nhận, thư gửi tính theo từng người nhận, theo nhật ký giao dịch (Điều 11.1).",
			"Messages are counted per recipient, from the transaction log (Art. 11.1)."},
	}
}

// viewTable is a table as HTML shows it.
type viewTable struct {
	VI, EN string
	Cols   []Col
	Rows   []viewRow
	Total  viewRow
}

type viewRow struct {
	Label string
	Cells []string
}

var htmlTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>{{.R.TitleVI}}</title>
<style>
body { font-family: "Times New Roman", serif; margin: 2em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
.en { display: block; color: #555; font-weight: normal; font-size: .85em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #888; padding: .25em .5em; }
th { background: #eee; vertical-align: bottom; }
td.n { text-align: right; white-space: nowrap; }
tr.total td { font-weight: bold; background: #f6f6f6; }
</style>
</head>
<body>
<h1>{{.R.TitleVI}}<span class="en" lang="en">{{.R.TitleEN}}</span></h1>
<p>Kỳ báo cáo / Period: từ {{.From}} đến {{.To}}<br>
Phạm vi / Scope: {{.R.ScopeVI}} <span lang="en">({{.R.ScopeEN}})</span><br>
Lập lúc / Generated: {{.Generated}}</p>
{{range .Tables}}
<h2>{{.VI}}<span class="en" lang="en">{{.EN}}</span></h2>
<table>
<thead><tr><th>Đơn vị<span class="en" lang="en">Unit</span></th>{{range .Cols}}<th>{{.VI}}{{if .Bytes}} (MB){{end}}<span class="en" lang="en">{{.EN}}{{if .Bytes}} (MB){{end}}</span></th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{.Label}}</td>{{range .Cells}}<td class="n">{{.}}</td>{{end}}</tr>
{{end}}<tr class="total"><td>{{.Total.Label}}</td>{{range .Total.Cells}}<td class="n">{{.}}</td>{{end}}</tr>
</tbody>
</table>
{{end}}
{{if .Mail}}
<h2>Nhật ký giao dịch theo hướng và trạng thái<span class="en" lang="en">Transaction log by direction and status</span></h2>
<table>
<thead><tr><th>Hướng<span class="en" lang="en">Direction</span></th><th>Trạng thái<span class="en" lang="en">Status</span></th><th>Số thư<span class="en" lang="en">Messages</span></th><th>Dung lượng (MB)<span class="en" lang="en">Size (MB)</span></th></tr></thead>
<tbody>
{{range .Mail}}<tr><td>{{.Direction}}</td><td>{{.Status}}</td><td class="n">{{.Messages}}</td><td class="n">{{.Size}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
<h2>Ghi chú<span class="en" lang="en">Notes</span></h2>
<ul>
{{range .Notes}}<li>{{index . 0}}<span class="en" lang="en">{{index . 1}}</span></li>
{{end}}</ul>
</body>
</html>
`))

// HTML writes the report as a page (Vietnamese headings, English below).
func (r *Report) HTML(w io.Writer) error {
	p := message.NewPrinter(language.Vietnamese) // 1.234.567 and 12,5
	cell := func(c Col, v int64) string {
		if c.Bytes {
			return p.Sprintf("%.1f", mb(v))
		}
		return p.Sprintf("%d", v)
	}
	var tables []viewTable
	for _, t := range r.Tables() {
		vt := viewTable{VI: t.VI, EN: t.EN, Cols: t.Cols, Total: viewRow{Label: r.totalLabel()}}
		for _, row := range r.Rows {
			vr := viewRow{Label: r.rowLabel(row)}
			for _, c := range t.Cols {
				vr.Cells = append(vr.Cells, cell(c, c.Get(&row.F)))
			}
			vt.Rows = append(vt.Rows, vr)
		}
		for _, c := range t.Cols {
			vt.Total.Cells = append(vt.Total.Cells, cell(c, c.Get(&r.Total.F)))
		}
		tables = append(tables, vt)
	}
	type mailRow struct{ Direction, Status, Messages, Size string }
	var mail []mailRow
	for _, m := range r.Mail {
		mail = append(mail, mailRow{
			Direction: lookup(directionVI, m.Direction) + " / " + lookup(directionEN, m.Direction),
			Status:    lookup(statusVI, m.Status) + " / " + m.Status,
			Messages:  p.Sprintf("%d", m.Messages), Size: p.Sprintf("%.1f", mb(m.Bytes)),
		})
	}
	err := htmlTmpl.Execute(w, map[string]any{
		"R": r, "From": dmy(r.Period.From), "To": dmy(r.Period.To), "Generated": r.localTime(r.GeneratedAt),
		"Tables": tables, "Mail": mail, "Notes": r.notes(),
	})
	if err != nil {
		return fmt.Errorf("report HTML: %w", err)
	}
	return nil
}

// CSV writes one row per unit and a total row, every figure a column. It
// starts with a byte-order mark so that Excel reads the Vietnamese as UTF-8,
// and writes sizes in bytes: integers read the same in every locale, where
// "12.5" would be 125 to an Excel set up for Vietnamese.
func (r *Report) CSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("report CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	// Excel on Windows expects CRLF line ends.
	cw.UseCRLF = true
	head := []string{"Kỳ báo cáo", "Đơn vị", "Mã hộp thư đơn vị"}
	tables := r.Tables()
	for _, t := range tables {
		for _, c := range t.Cols {
			h := t.Sheet + ": " + c.VI
			if c.Bytes {
				h += " (byte)"
			}
			head = append(head, h)
		}
	}
	cw.Write(head)
	line := func(label, lp string, row *Row) {
		rec := []string{r.Period.Key, label, lp}
		for _, t := range tables {
			for _, c := range t.Cols {
				rec = append(rec, strconv.FormatInt(c.Get(&row.F), 10))
			}
		}
		cw.Write(rec)
	}
	for i := range r.Rows {
		line(r.rowLabel(r.Rows[i]), r.Rows[i].LocalPart, &r.Rows[i])
	}
	line(r.totalLabel(), r.Total.LocalPart, &r.Total)
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report CSV: %w", err)
	}
	return nil
}

// XLSX writes a workbook: a sheet about the report, then one sheet per table
// with Vietnamese headers (English in the second row) and figures as numbers.
func (r *Report) XLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := r.fillXLSX(f); err != nil {
		return fmt.Errorf("report XLSX: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("report XLSX: %w", err)
	}
	return nil
}

func (r *Report) fillXLSX(f *excelize.File) error {
	border := []excelize.Border{{Type: "left", Color: "999999", Style: 1}, {Type: "right", Color: "999999", Style: 1},
		{Type: "top", Color: "999999", Style: 1}, {Type: "bottom", Color: "999999", Style: 1}}
	headStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EEEEEE"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	enStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Italic: true, Color: "555555"}, Border: border,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EEEEEE"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	mbFmt := "#,##0.0"
	intStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 3, Border: border})
	mbStyle, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &mbFmt, Border: border})
	textStyle, _ := f.NewStyle(&excelize.Style{Border: border})
	totalInt, _ := f.NewStyle(&excelize.Style{NumFmt: 3, Border: border, Font: &excelize.Font{Bold: true}})
	totalMB, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &mbFmt, Border: border, Font: &excelize.Font{Bold: true}})
	totalText, _ := f.NewStyle(&excelize.Style{Border: border, Font: &excelize.Font{Bold: true}})
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})

	const info = "Thông tin"
	if err := f.SetSheetName("Sheet1", info); err != nil {
		return err
	}
	infoRows := [][]any{
		{r.TitleVI()},
		{r.TitleEN()},
		{},
		{"Kỳ báo cáo / Period", r.Period.LabelVI() + " (" + r.Period.Key + ")"},
		{"Từ ngày / From", dmy(r.Period.From)},
		{"Đến ngày / To", dmy(r.Period.To)},
		{"Phạm vi / Scope", r.ScopeVI()},
		{"Lập lúc / Generated", r.localTime(r.GeneratedAt)},
		{},
		{"Ghi chú / Notes"},
	}
	for _, n := range r.notes() {
		infoRows = append(infoRows, []any{n[0]}, []any{n[1]})
	}
	for i, row := range infoRows {
		if err := f.SetSheetRow(info, cellName(1, i+1), &row); err != nil {
			return err
		}
	}
	f.SetCellStyle(info, "A1", "A1", bold)
	f.SetColWidth(info, "A", "A", 28)
	f.SetColWidth(info, "B", "B", 60)

	for _, t := range r.Tables() {
		if _, err := f.NewSheet(t.Sheet); err != nil {
			return err
		}
		vi := []any{"Đơn vị", "Mã hộp thư đơn vị"}
		en := []any{"Unit", "Unit mailbox"}
		for _, c := range t.Cols {
			h, e := c.VI, c.EN
			if c.Bytes {
				h, e = h+" (MB)", e+" (MB)"
			}
			vi, en = append(vi, h), append(en, e)
		}
		if err := f.SetSheetRow(t.Sheet, "A1", &vi); err != nil {
			return err
		}
		if err := f.SetSheetRow(t.Sheet, "A2", &en); err != nil {
			return err
		}
		last := cellName(len(vi), 1)
		f.SetCellStyle(t.Sheet, "A1", last, headStyle)
		f.SetCellStyle(t.Sheet, "A2", cellName(len(vi), 2), enStyle)
		line := func(n int, label, lp string, row *Row, total bool) error {
			vals := []any{label, lp}
			for _, c := range t.Cols {
				v := c.Get(&row.F)
				if c.Bytes {
					vals = append(vals, mb(v))
				} else {
					vals = append(vals, v)
				}
			}
			if err := f.SetSheetRow(t.Sheet, cellName(1, n), &vals); err != nil {
				return err
			}
			ts, is, ms := textStyle, intStyle, mbStyle
			if total {
				ts, is, ms = totalText, totalInt, totalMB
			}
			f.SetCellStyle(t.Sheet, cellName(1, n), cellName(2, n), ts)
			for i, c := range t.Cols {
				st := is
				if c.Bytes {
					st = ms
				}
				f.SetCellStyle(t.Sheet, cellName(i+3, n), cellName(i+3, n), st)
			}
			return nil
		}
		n := 3
		for i := range r.Rows {
			if err := line(n, r.rowLabel(r.Rows[i]), r.Rows[i].LocalPart, &r.Rows[i], false); err != nil {
				return err
			}
			n++
		}
		if err := line(n, r.totalLabel(), r.Total.LocalPart, &r.Total, true); err != nil {
			return err
		}
		f.SetColWidth(t.Sheet, "A", "A", 42)
		f.SetColWidth(t.Sheet, "B", "B", 16)
		f.SetColWidth(t.Sheet, "C", columnName(len(vi)), 16)
		f.SetPanes(t.Sheet, &excelize.Panes{Freeze: true, XSplit: 1, YSplit: 2, TopLeftCell: "B3", ActivePane: "bottomRight"})
	}

	if r.Mail != nil {
		const sheet = "Theo hướng và trạng thái"
		if _, err := f.NewSheet(sheet); err != nil {
			return err
		}
		head := []any{"Hướng", "Trạng thái", "Số thư", "Dung lượng (MB)"}
		headEN := []any{"Direction", "Status", "Messages", "Size (MB)"}
		f.SetSheetRow(sheet, "A1", &head)
		f.SetSheetRow(sheet, "A2", &headEN)
		f.SetCellStyle(sheet, "A1", "D1", headStyle)
		f.SetCellStyle(sheet, "A2", "D2", enStyle)
		for i, m := range r.Mail {
			row := []any{lookup(directionVI, m.Direction), lookup(statusVI, m.Status), m.Messages, mb(m.Bytes)}
			if err := f.SetSheetRow(sheet, cellName(1, i+3), &row); err != nil {
				return err
			}
			f.SetCellStyle(sheet, cellName(1, i+3), cellName(2, i+3), textStyle)
			f.SetCellStyle(sheet, cellName(3, i+3), cellName(3, i+3), intStyle)
			f.SetCellStyle(sheet, cellName(4, i+3), cellName(4, i+3), mbStyle)
		}
		f.SetColWidth(sheet, "A", "B", 20)
		f.SetColWidth(sheet, "C", "D", 16)
	}
	return nil
}

func cellName(col, row int) string {
	n, _ := excelize.CoordinatesToCellName(col, row)
	return n
}

func columnName(col int) string {
	n, _ := excelize.ColumnNumberToName(col)
	return n
}
