package migrate

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"govmail/internal/address"
	"govmail/internal/clock"
	"govmail/internal/directory"
	"govmail/internal/store"
)

// AccountColumns are the columns of the accounts file of `govmail import
// directory`, in any order, named in its first row:
//
//	address     the address on the old system, kept as it is (required)
//	full_name   the holder's full name, or the unit mailbox's display name
//	unit        local part of the account's unit, e.g. skhcn or ht.skhcn (required)
//	kind        personal (default) or unit
//	birth_year  optional, four digits (R5.4, used for later clashes)
const AccountColumns = "address,full_name,unit,kind,birth_year"

// DirectoryImport creates units and accounts from the old system's export.
type DirectoryImport struct {
	Store     store.Store
	Directory *directory.Service
	Clock     clock.Clock
	// Domains are our mail domains; every imported address must be in one.
	Domains    []string
	QuotaBytes int64
	// Generate makes a one-time password and Hash hashes it (password.Generate,
	// password.Hash).
	Generate func() string
	Hash     func(string) (string, error)
	Actor    string
}

// CreatedAccount is an account the import made, with its one-time password.
type CreatedAccount struct {
	Address, FullName, UnitLP, UnitName string
	Kind                                store.AccountKind
	Password                            string
	Legacy                              bool
}

// LegacyAddress is an imported address that does not follow Điều 5, kept as it
// is (R5.4) and listed for operators.
type LegacyAddress struct {
	Address, FullName, UnitLP, Reason string
	// Suggested is the address the rule would give today, for operators who
	// want to offer it (an alias keeps the old one working).
	Suggested string
}

// DirectoryReport is the outcome of a directory import.
type DirectoryReport struct {
	Units    *directory.ImportResult
	Created  []CreatedAccount
	Existing []string
	Legacy   []LegacyAddress
	Errors   []string
}

// OK tells whether every row was imported or was there already.
func (r *DirectoryReport) OK() bool {
	return len(r.Errors) == 0 && (r.Units == nil || len(r.Units.Errors) == 0)
}

// Import loads units (when units is not nil, in the format of
// directory.ImportUnits) and then accounts. Rows whose address exists are
// counted, not changed, and get no new password: an import can run again.
func (d *DirectoryImport) Import(ctx context.Context, units, accounts io.Reader) (*DirectoryReport, error) {
	rep := &DirectoryReport{}
	if units != nil {
		res, err := d.Directory.ImportUnits(ctx, units, d.Actor)
		if err != nil {
			return nil, err
		}
		rep.Units = res
	}
	cr := csv.NewReader(accounts)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("accounts CSV: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"address", "unit"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("tệp tài khoản thiếu cột %s (các cột: %s) / the accounts file has no column %s (columns: %s)",
				need, AccountColumns, need, AccountColumns)
		}
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, fmt.Errorf("accounts CSV line %d: %w", line, err)
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if get("address") == "" && get("unit") == "" {
			continue
		}
		if err := d.row(ctx, rep, get); err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("dòng / line %d (%s): %v", line, get("address"), err))
		}
	}
	return rep, nil
}

func (d *DirectoryImport) row(ctx context.Context, rep *DirectoryReport, get func(string) string) error {
	addr := strings.ToLower(get("address"))
	lp, domain, ok := strings.Cut(addr, "@")
	if !ok || !d.localDomain(domain) {
		return fmt.Errorf("địa chỉ phải thuộc miền %s / the address must be in %s", strings.Join(d.Domains, ", "), strings.Join(d.Domains, ", "))
	}
	if err := legacySyntax(lp); err != nil {
		return err
	}
	if err := d.Directory.Rules.ValidateLocalPart(lp); errors.Is(err, address.ErrReserved) {
		// R5.11 holds for old addresses too: postmaster and abuse are the operators'.
		return errors.New(bilingual(err))
	}
	kind := store.AccountKind(strings.ToLower(get("kind")))
	if kind == "" {
		kind = store.KindPersonal
	}
	if kind != store.KindPersonal && kind != store.KindUnit {
		return fmt.Errorf("loại %q: personal hoặc unit / kind %q: personal or unit", kind, kind)
	}
	year := 0
	if y := get("birth_year"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < 1900 || n > d.Clock.Now().Year() {
			return fmt.Errorf("năm sinh %q không hợp lệ / invalid birth year %q", y, y)
		}
		year = n
	}
	unit, err := d.Store.UnitByLocalPart(ctx, address.Canonical(get("unit")))
	if err != nil {
		return fmt.Errorf("không có đơn vị / no unit %q: %w", get("unit"), err)
	}
	name := strings.Join(strings.Fields(get("full_name")), " ")
	if name == "" && kind == store.KindUnit {
		name = unit.Name
	}
	if _, err := d.Store.AccountByAddress(ctx, addr); err == nil {
		rep.Existing = append(rep.Existing, addr)
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	reason, suggested := d.ruleCheck(ctx, lp, kind, name, year, unit)
	pw := d.Generate()
	hash, err := d.Hash(pw)
	if err != nil {
		return err
	}
	a := &store.Account{Address: addr, DisplayName: name, Kind: kind, UnitID: unit.ID, PasswordHash: hash,
		MustChange: true, PasswordSetAt: d.Clock.Now(), QuotaBytes: d.QuotaBytes, BirthYear: year}
	if reason != "" {
		a.AddressNote = "legacy"
	}
	if err := d.Store.CreateAccount(ctx, a); err != nil {
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("địa chỉ đã được dùng (đơn vị, bí danh hoặc vừa thu hồi) / the address is taken (a unit, an alias or recently revoked): %w", err)
		}
		return err
	}
	detail := "imported from the old system"
	if reason != "" {
		detail += "; legacy address: " + reason
		rep.Legacy = append(rep.Legacy, LegacyAddress{Address: addr, FullName: name, UnitLP: unit.LocalPart, Reason: reason, Suggested: suggested})
	}
	if err := d.Store.AppendAudit(ctx, store.AuditEntry{Time: d.Clock.Now(), Actor: d.Actor, Action: "account.import", Target: addr, Detail: detail}); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	rep.Created = append(rep.Created, CreatedAccount{Address: addr, FullName: name, UnitLP: unit.LocalPart, UnitName: unit.Name,
		Kind: kind, Password: pw, Legacy: reason != ""})
	return nil
}

func (d *DirectoryImport) localDomain(domain string) bool {
	for _, x := range d.Domains {
		if strings.EqualFold(x, domain) {
			return true
		}
	}
	return false
}

// legacySyntax accepts what a mail system may have handed out before Điều 5:
// an RFC 5322 dot-atom of ASCII (underscores, hyphens, plus signs…) within
// RFC 5321's 64 octets, upper case already folded. It refuses only what no
// mail system can deliver to.
func legacySyntax(lp string) error {
	bad := func(why string) error {
		return fmt.Errorf("phần trước @ %q không hợp lệ (%s) / invalid local part %q (%s)", lp, why, lp, why)
	}
	if lp == "" || len(lp) > address.MaxLocalPartOctets {
		return bad("length / độ dài")
	}
	if lp[0] == '.' || lp[len(lp)-1] == '.' || strings.Contains(lp, "..") {
		return bad("dots / dấu chấm")
	}
	for _, c := range lp {
		if c > unicode.MaxASCII || !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(".!#$%&'*+-/=?^_`{|}~", c)) {
			return bad(fmt.Sprintf("%q", c))
		}
	}
	return nil
}

// ruleCheck says why lp does not follow Điều 5 ("" when it does) and what the
// rule would give. A personal address follows it when it is
// <base>[digits].<top-level unit> (R5.2–R5.4, R5.8); a unit mailbox when it is
// its unit's own local part (R5.1).
func (d *DirectoryImport) ruleCheck(ctx context.Context, lp string, kind store.AccountKind, name string, year int, unit *store.Unit) (reason, suggested string) {
	rules := d.Directory.Rules
	if kind == store.KindUnit {
		if lp == unit.LocalPart {
			return "", ""
		}
		return fmt.Sprintf("hộp thư đơn vị không mang địa chỉ của đơn vị (%s) / a unit mailbox not at its unit's address (%s)", unit.LocalPart, unit.LocalPart), ""
	}
	if s, err := d.Directory.SuggestPersonal(ctx, unit.LocalPart, name, year); err == nil {
		suggested = s.Address
	}
	if err := rules.ValidateLocalPart(lp); err != nil {
		return "ngoài quy tắc Điều 5.1 / outside Article 5.1: " + bilingual(err), suggested
	}
	top, err := d.Directory.TopUnit(ctx, unit)
	if err != nil {
		return fmt.Sprintf("không xác định được đơn vị cấp trên / top-level unit unknown: %v", err), suggested
	}
	base, _, err := address.PersonalBase(name)
	if err != nil {
		return "không có họ tên để đối chiếu (Điều 5.2) / no full name to check against (Article 5.2)", suggested
	}
	head, unitPart, ok := strings.Cut(lp, ".")
	if ok && unitPart == top.LocalPart && strings.HasPrefix(head, base) && allDigits(head[len(base):]) {
		return "", ""
	}
	return fmt.Sprintf("không theo Điều 5.2: quy tắc cho %s[số].%s / does not follow Article 5.2: the rule gives %s[digits].%s",
		base, top.LocalPart, base, top.LocalPart), suggested
}

// bilingual renders an address refusal in both languages.
func bilingual(err error) string {
	var ae *address.Error
	if errors.As(err, &ae) {
		return ae.VI + " / " + ae.EN
	}
	return err.Error()
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Write prints the summary and the legacy list for operators.
func (r *DirectoryReport) Write(w io.Writer) {
	if r.Units != nil {
		fmt.Fprintf(w, "Đơn vị / units: %d mới / new, %d đã có / existing\n", r.Units.Created, r.Units.Existing)
		for _, e := range r.Units.Errors {
			fmt.Fprintln(w, "  lỗi / error:", e)
		}
	}
	legacy := 0
	for _, c := range r.Created {
		if c.Legacy {
			legacy++
		}
	}
	fmt.Fprintf(w, "Tài khoản / accounts: %d mới / new (%d địa chỉ cũ giữ nguyên / legacy addresses kept), %d đã có / existing, %d lỗi / errors\n",
		len(r.Created), legacy, len(r.Existing), len(r.Errors))
	for _, e := range r.Errors {
		fmt.Fprintln(w, "  lỗi / error:", e)
	}
	if len(r.Legacy) > 0 {
		fmt.Fprintln(w, "Địa chỉ không theo Điều 5, giữ nguyên và đánh dấu \"legacy\" (R5.4) / addresses not following Article 5, kept and flagged \"legacy\":")
		for _, l := range r.Legacy {
			sug := ""
			if l.Suggested != "" {
				sug = " — quy tắc / rule: " + l.Suggested
			}
			fmt.Fprintf(w, "  %-36s %-28s %s%s\n", l.Address, l.FullName, l.Reason, sug)
		}
	}
	fmt.Fprintln(w, "Mọi mật khẩu là mật khẩu dùng một lần, phải đổi khi đăng nhập lần đầu (Điều 6.1) / every password is one-time and must be changed at first login (Article 6.1).")
}

// WriteLists writes, into dir (created 0700, files 0600: they hold
// passwords), one printable CSV of the new accounts and their one-time
// passwords per unit, and legacy.csv, the legacy addresses. UTF-8 with a BOM,
// so that a spreadsheet shows the Vietnamese names. Existing files are never
// overwritten. It returns the files written.
func (r *DirectoryReport) WriteLists(dir string) ([]string, error) {
	if len(r.Created) == 0 && len(r.Legacy) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	byUnit := map[string][]CreatedAccount{}
	var units []string
	for _, c := range r.Created {
		if _, ok := byUnit[c.UnitLP]; !ok {
			units = append(units, c.UnitLP)
		}
		byUnit[c.UnitLP] = append(byUnit[c.UnitLP], c)
	}
	sort.Strings(units)
	var files []string
	for _, u := range units {
		accs := byUnit[u]
		rows := [][]string{{"STT / No.", "Họ và tên / Full name", "Địa chỉ thư / Address", "Mật khẩu dùng một lần / One-time password", "Loại / Kind", "Ghi chú / Note"}}
		for i, c := range accs {
			note := ""
			if c.Legacy {
				note = "địa chỉ cũ giữ nguyên / legacy address kept"
			}
			rows = append(rows, []string{strconv.Itoa(i + 1), c.FullName, c.Address, c.Password, string(c.Kind), note})
		}
		rows = append(rows, []string{"", "Đơn vị / Unit: " + accs[0].UnitName + " (" + u + ")", "",
			"Phải đổi mật khẩu khi đăng nhập lần đầu (Điều 6.1) / must be changed at first login", "", ""})
		path := filepath.Join(dir, u+".csv")
		if err := writeCSVFile(path, rows); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	if len(r.Legacy) > 0 {
		rows := [][]string{{"address", "full_name", "unit", "reason", "rule_suggestion"}}
		for _, l := range r.Legacy {
			rows = append(rows, []string{l.Address, l.FullName, l.UnitLP, l.Reason, l.Suggested})
		}
		path := filepath.Join(dir, "legacy.csv")
		if err := writeCSVFile(path, rows); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}

func writeCSVFile(path string, rows [][]string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("password list: %w", err)
	}
	f.WriteString("\ufeff")
	cw := csv.NewWriter(f)
	cw.UseCRLF = true
	if err := cw.WriteAll(rows); err != nil {
		f.Close()
		return fmt.Errorf("password list: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
