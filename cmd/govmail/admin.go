package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"govmail/internal/address"
	"govmail/internal/app"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/directory"
	"govmail/internal/password"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

func openStore(ctx context.Context, df *dataFlags, stdout, stderr io.Writer) (config.Config, store.Store, error) {
	cfg, err := df.load(stdout)
	if err != nil {
		return cfg, nil, err
	}
	log := app.NewLogger(config.Log{Level: "warn"}, stderr)
	// The province's time zone, as lifeApp and serve use: dates the store
	// writes (password set, logins) read the same whichever door wrote them.
	st, err := app.OpenStore(ctx, cfg, clock.InZone{Clock: clock.Real{}, Loc: workdays.Location()}, log)
	return cfg, st, err
}

// parseInterspersed lets flags follow positional arguments, as the issue's
// examples write them (`account add ADDRESS --password P`).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func cmdAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) >= 2 {
		switch args[0] + " " + args[1] {
		case "account add":
			return cmdAccountAdd(ctx, args[2:], stdout, stderr)
		case "unit import":
			return cmdUnitImport(ctx, args[2:], stdout, stderr)
		case "unit export":
			return cmdUnitExport(ctx, args[2:], stdout, stderr)
		case "unit add":
			return cmdUnitAdd(ctx, args[2:], stdout, stderr)
		case "unit set":
			return cmdUnitSet(ctx, args[2:], stdout, stderr)
		case "unit list":
			return cmdUnitList(ctx, args[2:], stdout, stderr)
		case "address suggest":
			return cmdAddressSuggest(ctx, args[2:], stdout, stderr)
		case "log search":
			return cmdLogSearch(ctx, args[2:], stdout, stderr)
		case "account lock", "account restore", "account revoke":
			return cmdAccountState(ctx, args[1], args[2:], stdout, stderr)
		}
	}
	if len(args) >= 1 {
		switch args[0] {
		case "request":
			return cmdRequest(ctx, args[1:], stdout, stderr)
		case "queue":
			return cmdAdminQueue(ctx, args[1:], stdout, stderr)
		case "held":
			return cmdHeld(ctx, args[1:], stdout, stderr)
		case "token":
			return cmdToken(ctx, args[1:], stdout, stderr)
		case "report":
			return cmdReport(ctx, args[1:], stdout, stderr)
		case "outage":
			return cmdOutage(ctx, args[1:], stdout, stderr)
		case "dns":
			return cmdAdminDNS(ctx, args[1:], stdout, stderr)
		case "delegate":
			return cmdDelegate(ctx, args[1:], stdout, stderr)
		case "jobs":
			return cmdJobs(ctx, args[1:], stdout, stderr)
		case "authreports":
			return cmdAuthReports(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown admin command %q", strings.Join(args, " "))
}

func cmdAccountAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin account add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	pw := fs.String("password", "", "initial password (a strong one-time password is generated when empty)")
	name := fs.String("name", "", "full name, e.g. \"Nguyễn Thu Hòa\" (with --unit the address follows Điều 5.2)")
	unit := fs.String("unit", "", "unit local part, e.g. skhcn or ht.skhcn")
	year := fs.Int("birth-year", 0, "birth year, used on an address clash (Điều 5.2)")
	quota := fs.Int64("quota", 0, "quota in bytes (default from configuration)")
	role := fs.String("role", store.RoleUser, "user or operator")
	unitBox := fs.Bool("unit-mailbox", false, "create the unit's own mailbox (address = the unit's)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 || (len(pos) == 0 && *unit == "") {
		return errors.New("usage: govmail admin account add [ADDRESS] [--unit U --name \"Họ Tên\" [--birth-year Y]] [--password P] [--quota BYTES] [--role operator]")
	}
	if *role != store.RoleUser && *role != store.RoleOperator {
		return fmt.Errorf("--role %q: user or operator", *role)
	}
	cfg, st, err := openStore(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	generated := false
	if *pw == "" {
		*pw, generated = password.Generate(), true
	}
	addrForCheck := ""
	if len(pos) == 1 {
		addrForCheck = strings.ToLower(strings.TrimSpace(pos[0]))
	}
	pol := password.DefaultPolicy()
	if err := pol.Check(*pw, password.CheckContext{Address: addrForCheck, FullName: *name}); err != nil {
		var pe *password.Error
		if errors.As(err, &pe) {
			return fmt.Errorf("mật khẩu không đạt / password refused:\n%s\n%s", pe.Error(), pe.English())
		}
		return err
	}
	hash, err := password.Hash(*pw)
	if err != nil {
		return err
	}
	if *quota == 0 {
		*quota = cfg.Policy.QuotaBytes
	}
	dir := newDirectory(cfg, st)
	var a *store.Account
	switch {
	case *unitBox:
		a, err = dir.CreateUnitMailbox(ctx, *unit, hash, *quota, "cli")
	case len(pos) == 0:
		// R6.1: a password set by anyone but its holder must be changed at first use.
		a, err = dir.CreatePerson(ctx, directory.NewPerson{UnitLP: *unit, FullName: *name, BirthYear: *year,
			PasswordHash: hash, MustChange: true, QuotaBytes: *quota}, "cli")
	default:
		addr := addrForCheck
		if !localAddress(cfg, addr) {
			return fmt.Errorf("%s: địa chỉ phải thuộc miền %s / the address must be in %s", addr, strings.Join(cfg.Domains, ", "), strings.Join(cfg.Domains, ", "))
		}
		lp := addr[:strings.LastIndexByte(addr, '@')]
		if err := address.DefaultRules().ValidateLocalPart(lp); err != nil {
			return refusal(err)
		}
		var unitID int64
		if *unit != "" {
			u, err := st.UnitByLocalPart(ctx, *unit)
			if err != nil {
				return fmt.Errorf("không có đơn vị / no unit %q", *unit)
			}
			unitID = u.ID
		}
		a = &store.Account{Address: addr, DisplayName: *name, PasswordHash: hash, MustChange: true,
			PasswordSetAt: time.Now(), QuotaBytes: *quota, UnitID: unitID, AddressNote: "set by operator"}
		err = st.CreateAccount(ctx, a)
	}
	if err != nil {
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("địa chỉ đã được dùng / the address is taken: %w", err)
		}
		return refusal(err)
	}
	if *role != store.RoleUser {
		if err := st.SetRole(ctx, a.ID, *role); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Đã tạo hộp thư / created mailbox: %s\n", a.Address)
	if strings.HasPrefix(a.AddressNote, "review") {
		fmt.Fprintln(stdout, "Lưu ý: tên chỉ có một từ, cần kiểm tra địa chỉ (Điều 5.2) / note: one-word name, check the address")
	}
	if generated {
		fmt.Fprintf(stdout, "Mật khẩu dùng một lần / one-time password: %s\n", *pw)
	}
	fmt.Fprintln(stdout, "Người dùng phải đổi mật khẩu khi đăng nhập lần đầu (Điều 6) / the holder must change it at first login:")
	fmt.Fprintf(stdout, "  govmail account passwd %s\n", a.Address)
	return nil
}

// refusal prints the Vietnamese and English reasons of a directory refusal.
func refusal(err error) error {
	var ae *address.Error
	if errors.As(err, &ae) {
		return fmt.Errorf("%s / %s", ae.VI, ae.EN)
	}
	return err
}

func newDirectory(cfg config.Config, st store.Store) *directory.Service {
	return &directory.Service{Store: st, Clock: clock.Real{}, Rules: address.DefaultRules(), Domain: cfg.Domains[0]}
}

func cmdUnitImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin unit import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	var r io.Reader = bytes.NewReader(directory.ProvinceUnits)
	src := "danh sách đơn vị tỉnh Sơn La kèm theo / the shipped Sơn La unit list"
	if len(pos) == 1 {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		r, src = f, pos[0]
	}
	cfg, st, err := openStore(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := newDirectory(cfg, st).ImportUnits(ctx, r, "cli")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Nhập %s: %d đơn vị mới, %d đã có / imported: %d new, %d existing\n", src, res.Created, res.Existing, res.Created, res.Existing)
	for _, e := range res.Errors {
		fmt.Fprintln(stdout, "  lỗi / error:", e)
	}
	if len(res.Errors) > 0 {
		return fmt.Errorf("%d dòng không nhập được / rows not imported", len(res.Errors))
	}
	return nil
}

func cmdUnitExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin unit export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, st, err := openStore(ctx, &df, io.Discard, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	return newDirectory(cfg, st).ExportUnits(ctx, stdout)
}

func cmdUnitList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin unit list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, st, err := openStore(ctx, &df, io.Discard, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	units, err := st.ListUnits(ctx)
	if err != nil {
		return err
	}
	for _, u := range units {
		fmt.Fprintf(stdout, "%-24s %-16s %s\n", u.LocalPart, u.Kind, u.Name)
	}
	return nil
}

func cmdUnitAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin unit add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	name := fs.String("name", "", "Vietnamese name, e.g. \"Phòng Hạ tầng\"")
	kind := fs.String("kind", string(store.UnitSubUnit), "province_agency, commune, ward, sub_unit or other")
	parent := fs.String("parent", "", "parent unit local part (sub-units)")
	abbr := fs.String("abbr", "", "abbreviation (default: suggested from the name, Điều 5)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	cfg, st, err := openStore(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := newDirectory(cfg, st).CreateUnit(ctx, *name, store.UnitKind(*kind), *parent, *abbr, "cli")
	if err != nil {
		return refusal(err)
	}
	fmt.Fprintf(stdout, "Đã tạo đơn vị / created unit: %s <%s@%s>\n", u.Name, u.LocalPart, cfg.Domains[0])
	return nil
}

func cmdAddressSuggest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin address suggest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	unit := fs.String("unit", "", "unit local part, e.g. skhcn")
	name := fs.String("name", "", "full name, e.g. \"Nguyễn Thu Hòa\"")
	year := fs.Int("birth-year", 0, "birth year (used on a clash)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *unit == "" || *name == "" {
		return errors.New("usage: govmail admin address suggest --unit U --name \"Họ Tên Đệm Tên\" [--birth-year Y]")
	}
	cfg, st, err := openStore(ctx, &df, io.Discard, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := newDirectory(cfg, st).SuggestPersonal(ctx, *unit, *name, *year)
	if err != nil {
		return refusal(err)
	}
	fmt.Fprintln(stdout, s.Address)
	if s.Review {
		fmt.Fprintln(stderr, "Lưu ý: tên chỉ có một từ, cần kiểm tra (Điều 5.2) / note: one-word name, please check")
	}
	return nil
}

func localAddress(cfg config.Config, addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return false
	}
	for _, d := range cfg.Domains {
		if strings.EqualFold(addr[at+1:], d) {
			return true
		}
	}
	return false
}

// cmdAccount is the holder's own command: changing one's password clears the
// forced change of Điều 6.1 (webmail offers the same page).
func cmdAccount(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 1 || args[0] != "passwd" {
		return errors.New("usage: govmail account passwd ADDRESS  (old and new password on stdin, one per line)")
	}
	fs := flag.NewFlagSet("account passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: govmail account passwd ADDRESS")
	}
	_, st, err := openStore(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := st.AccountByAddress(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	sc := bufio.NewScanner(stdin)
	fmt.Fprint(stdout, "Mật khẩu hiện tại / current password: ")
	if !sc.Scan() {
		return errors.New("no current password given")
	}
	old := strings.TrimRight(sc.Text(), "\r")
	ok, err := password.Verify(a.PasswordHash, old)
	if err != nil || !ok {
		return errors.New("sai mật khẩu hiện tại / wrong current password")
	}
	fmt.Fprint(stdout, "\nMật khẩu mới / new password: ")
	if !sc.Scan() {
		return errors.New("no new password given")
	}
	nw := strings.TrimRight(sc.Text(), "\r")
	fmt.Fprintln(stdout)
	if nw == old {
		return errors.New("mật khẩu mới phải khác mật khẩu cũ / the new password must differ from the old one")
	}
	pol := password.DefaultPolicy()
	hist, err := st.PasswordHistory(ctx, a.ID, pol.History)
	if err != nil {
		return err
	}
	if err := pol.Check(nw, password.CheckContext{Address: a.Address, FullName: a.DisplayName, PreviousHashes: hist, Verify: password.Verify}); err != nil {
		var pe *password.Error
		if errors.As(err, &pe) {
			return fmt.Errorf("mật khẩu không đạt / password refused:\n%s\n%s", pe.Error(), pe.English())
		}
		return err
	}
	hash, err := password.Hash(nw)
	if err != nil {
		return err
	}
	if err := st.SetPassword(ctx, a.ID, hash, false, clock.Real{}.Now()); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Đã đổi mật khẩu / password changed.")
	return nil
}

// cmdUnitSet is `govmail admin unit set UNIT [--manager A] [--security A] [--name N]`:
// the head (or the person they assign) and the security contact of Điều 12.1.
func cmdUnitSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin unit set", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	manager := fs.String("manager", "", "address of the unit manager")
	security := fs.String("security", "", "address of the security contact (Điều 12.1)")
	name := fs.String("name", "", "new Vietnamese name")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: govmail admin unit set UNIT [--manager ADDRESS] [--security ADDRESS] [--name N]")
	}
	_, st, err := openStore(ctx, &df, io.Discard, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UnitByLocalPart(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("không có đơn vị / no unit %q", pos[0])
	}
	lookup := func(addr string) (int64, error) {
		a, err := st.AccountByAddress(ctx, addr)
		if err != nil {
			return 0, fmt.Errorf("không có hộp thư / no mailbox %s", addr)
		}
		return a.ID, nil
	}
	if *manager != "" {
		if u.ManagerID, err = lookup(*manager); err != nil {
			return err
		}
	}
	if *security != "" {
		if u.SecurityContactID, err = lookup(*security); err != nil {
			return err
		}
	}
	if *name != "" {
		u.Name = *name
	}
	if err := st.UpdateUnit(ctx, u); err != nil {
		return err
	}
	if err := st.AppendAudit(ctx, store.AuditEntry{Time: time.Now(), Actor: "cli", Action: "unit.update", Target: u.LocalPart,
		Detail: fmt.Sprintf("manager=%s security=%s name=%s", *manager, *security, *name)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Đã cập nhật đơn vị / updated unit %s\n", u.LocalPart)
	return nil
}
