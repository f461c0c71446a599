package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// Điều 7.3, 16.3 and 14 from the command line: `admin report` writes the
// figures as CSV (with a byte-order mark), XLSX and HTML and mails them;
// `admin outage` publishes, lists and closes a notice.
func TestAdminReportAndOutage_R7_3_R14_1(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"admin", "unit", "import"},
		{"admin", "account", "add", "--unit", "skhcn", "--unit-mailbox"},
		{"admin", "account", "add", "--unit", "vpubnd", "--unit-mailbox"},
		{"admin", "account", "add", "--unit", "skhcn", "--name", "Nguyễn Thị Hoa"},
	} {
		if out, err := runCLI(t, "", append(args, "-data", dir)...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	cmd := func(fn func(context.Context, []string, io.Writer, io.Writer) error, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := fn(ctx, append(args, "-data", dir), &out, &errb); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	report, outage := cmdReport, cmdOutage

	year := strconv.Itoa(time.Now().Year())
	csvFile := filepath.Join(dir, "r.csv")
	cmd(report, "--period", year, "--out", csvFile)
	raw, err := os.ReadFile(csvFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("\xef\xbb\xbf")) {
		t.Fatal("CSV without byte-order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(raw[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head, total := recs[0], recs[len(recs)-1]
	for _, col := range []string{"Tài khoản: Đang hoạt động", "Biến động: Cấp mới"} {
		i := slices.Index(head, col)
		if i < 0 {
			t.Errorf("CSV has no column %q: %v", col, head)
		} else if total[i] != "3" {
			t.Errorf("%s: %s, want 3", col, total[i])
		}
	}

	xlsxFile := filepath.Join(dir, "skhcn.xlsx")
	if out := cmd(report, "--period", year, "--unit", "skhcn", "--out", xlsxFile, "--mail", "vpubnd@sonla.gov.vn"); !strings.Contains(out, "vpubnd@sonla.gov.vn") {
		t.Errorf("mail: %s", out)
	}
	f, err := excelize.OpenFile(xlsxFile)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Tài khoản")
	f.Close()
	if err != nil || rows[2][1] != "skhcn" || rows[2][2] != "2" {
		t.Errorf("XLSX: %v %v", err, rows)
	}
	if out := cmd(report, "--from", year+"-01-01", "--to", year+"-12-31", "--format", "html"); !strings.Contains(out, "Tài khoản tại thời điểm cuối kỳ") {
		t.Errorf("HTML: %.300s", out)
	}
	var errb bytes.Buffer
	if err := cmdReport(ctx, []string{"--period", "2026-13", "-data", dir}, &bytes.Buffer{}, &errb); err == nil {
		t.Error("bad period accepted")
	}
	if err := cmdReport(ctx, []string{"--unit", "khongco", "-data", dir}, &bytes.Buffer{}, &errb); err == nil || !strings.Contains(err.Error(), "khongco") {
		t.Errorf("unknown unit: %v", err)
	}

	out := cmd(outage, "publish", "--what", "Bảo trì máy chủ", "--since", "2026-11-27 08:00", "--until", "2026-11-27 12:00", "--by", "op@sonla.gov.vn")
	if !strings.Contains(out, "#1") || !strings.Contains(out, "2 hộp thư") {
		t.Errorf("publish: %s", out)
	}
	if out := cmd(outage, "list"); !strings.Contains(out, "Bảo trì máy chủ") || !strings.Contains(out, "2026-11-27 08:00 → 2026-11-27 12:00") || !strings.Contains(out, "OPEN") {
		t.Errorf("list: %s", out)
	}
	if out := cmd(outage, "close", "1", "--note", "xong"); !strings.Contains(out, "#1") {
		t.Errorf("close: %s", out)
	}
	if out := cmd(outage, "list"); !strings.Contains(out, "no notices") {
		t.Errorf("list after close: %s", out)
	}
	if out := cmd(outage, "list", "--all"); !strings.Contains(out, "closed") {
		t.Errorf("list --all: %s", out)
	}
	if err := cmdOutage(ctx, []string{"close", "1", "-data", dir}, &bytes.Buffer{}, &errb); err == nil {
		t.Error("closed twice")
	}
	if err := cmdOutage(ctx, []string{"publish", "--what", "x", "-data", dir}, &bytes.Buffer{}, &errb); err == nil {
		t.Error("published without a restoration time")
	}
}
