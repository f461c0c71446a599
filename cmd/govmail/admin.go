package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"govmail/internal/app"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/password"
	"govmail/internal/store"
)

func openStore(ctx context.Context, df *dataFlags, stdout, stderr io.Writer) (config.Config, store.Store, error) {
	cfg, err := df.load(stdout)
	if err != nil {
		return cfg, nil, err
	}
	log := app.NewLogger(config.Log{Level: "warn"}, stderr)
	st, err := app.OpenStore(ctx, cfg, clock.Real{}, log)
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
	if len(args) >= 2 && args[0] == "account" && args[1] == "add" {
		return cmdAccountAdd(ctx, args[2:], stdout, stderr)
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
	name := fs.String("name", "", "display name, e.g. \"Nguyễn Thu Hòa\"")
	quota := fs.Int64("quota", 0, "quota in bytes (default from configuration)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: govmail admin account add ADDRESS [--password P] [--name N] [--quota BYTES]")
	}
	addr := strings.ToLower(strings.TrimSpace(pos[0]))
	cfg, st, err := openStore(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if !localAddress(cfg, addr) {
		return fmt.Errorf("%s: địa chỉ phải thuộc miền %s / the address must be in %s", addr, strings.Join(cfg.Domains, ", "), strings.Join(cfg.Domains, ", "))
	}
	generated := false
	if *pw == "" {
		*pw, generated = password.Generate(), true
	}
	pol := password.DefaultPolicy()
	if err := pol.Check(*pw, password.CheckContext{Address: addr, FullName: *name}); err != nil {
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
	now := clock.Real{}.Now()
	// R6.1: a password set by anyone but its holder must be changed at first use.
	a := &store.Account{Address: addr, DisplayName: *name, PasswordHash: hash, MustChange: true, PasswordSetAt: now, QuotaBytes: *quota}
	if err := st.CreateAccount(ctx, a); err != nil {
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("%s: địa chỉ đã tồn tại / address already exists", addr)
		}
		return err
	}
	fmt.Fprintf(stdout, "Đã tạo hộp thư / created mailbox: %s\n", addr)
	if generated {
		fmt.Fprintf(stdout, "Mật khẩu dùng một lần / one-time password: %s\n", *pw)
	}
	fmt.Fprintln(stdout, "Người dùng phải đổi mật khẩu khi đăng nhập lần đầu (Điều 6) / the holder must change it at first login:")
	fmt.Fprintf(stdout, "  govmail account passwd %s\n", addr)
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
	if err := pol.Check(nw, password.CheckContext{Address: a.Address, FullName: a.DisplayName}); err != nil {
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
