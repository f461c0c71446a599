package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"govmail/internal/app"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/migrate"
	"govmail/internal/password"
	"govmail/internal/workdays"
)

const importUsage = `govmail import — chuyển dữ liệu từ hệ thống thư cũ / migrate from the old mail system

  govmail import imap --from imaps://old-host:993 --accounts accounts.csv [options]
      Chép mọi thư mục, cờ, ngày nhận và nội dung thư (giữ nguyên từng byte) từ máy chủ IMAP cũ.
      Chạy lại bao nhiêu lần cũng được: mỗi lần chỉ chép phần thay đổi.
      Copies every folder, flag, internal date and message (byte for byte) from the old
      IMAP server. Run it again and again: each run copies only what changed.
      accounts.csv: address,login,password — our address, the login on the old server and
      its password; an empty password uses the administrator's proxy login (--admin).
      --admin USER --admin-password-file FILE [--admin-style dovecot|authzid]
                          Dovecot master user (LOGIN user*admin) or SASL PLAIN authzid (Zimbra)
      --parallel N        accounts at once (default 2)
      --mirror-deletes    remove copies of mail (and folders) deleted on the old side
      --ca FILE           trust this CA for the old server's certificate
      --tls-insecure      do not check the old server's certificate (a self-signed one)
      --plaintext         imap:// without STARTTLS (only on a trusted network)
      --progress 5s       progress on stderr every interval (0: none)

  govmail import mbox FILE --to ADDRESS [--folder F] [--mboxrd]
  govmail import maildir DIR --to ADDRESS [--folder F]
      Nhập tệp mbox / thư mục maildir vào một hộp thư (mặc định INBOX; maildir không có
      --folder: cả các thư mục con Maildir++). / Imports an mbox file or a maildir into a
      mailbox (INBOX by default; a maildir without --folder: its Maildir++ sub-folders too).

  govmail import directory units.csv accounts.csv [--out DIR]
      Tạo đơn vị và tài khoản từ danh bạ hệ thống cũ; giữ nguyên địa chỉ cũ (đánh dấu
      "legacy" khi không theo Điều 5); mật khẩu dùng một lần phải đổi khi đăng nhập lần đầu
      (Điều 6.1), in theo từng đơn vị vào DIR. / Creates units and accounts from the old
      system's directory, keeping old addresses (flagged "legacy" when they do not follow
      Article 5), with one-time passwords to change at first login, listed per unit in DIR.
      units.csv: kind,name_vi,local_part[,notes]  ("-" to skip)
      accounts.csv: ` + migrate.AccountColumns + `
        address     the old address, kept as it is
        full_name   the holder's full name (a unit mailbox: its display name)
        unit        the unit's local part, e.g. skhcn or ht.skhcn
        kind        personal (default) or unit
        birth_year  optional, e.g. 1990

Mọi lệnh nhận -data DIR hoặc -config FILE. Kết thúc với mã khác 0 nếu có gì chưa kiểm chứng được.
Every command takes -data DIR or -config FILE. It exits non-zero when anything did not verify.
`

// cmdImport is `govmail import …`.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, importUsage)
		return errors.New("usage: govmail import imap|mbox|maildir|directory …")
	}
	// Ctrl-C stops the run between batches: what was committed stays, and the
	// next run goes on from there.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "imap":
		return cmdImportIMAP(ctx, args[1:], stdout, stderr)
	case "mbox", "maildir":
		return cmdImportFile(ctx, args[0], args[1:], stdout, stderr)
	case "directory":
		return cmdImportDirectory(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, importUsage)
		return nil
	}
	fmt.Fprint(stderr, importUsage)
	return fmt.Errorf("unknown import command %q", args[0])
}

// importClock reads mbox dates in the province's time, as the old system wrote them.
func importClock() clock.Clock {
	return clock.InZone{Clock: clock.Real{}, Loc: workdays.Location()}
}

func newImporter(ctx context.Context, df *dataFlags, stdout, stderr io.Writer) (*migrate.Importer, func(), error) {
	cfg, err := df.load(stdout)
	if err != nil {
		return nil, nil, err
	}
	log := app.NewLogger(config.Log{Level: "warn"}, stderr)
	clk := importClock()
	st, err := app.OpenStore(ctx, cfg, clk, log)
	if err != nil {
		return nil, nil, err
	}
	im, err := migrate.NewImporter(st, clk, log)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	im.Progress = &migrate.Progress{Started: clk.Now()}
	return im, func() { st.Close() }, nil
}

func cmdImportIMAP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import imap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	from := fs.String("from", "", "old server, imaps://host:993 or imap://host:143")
	accountsFile := fs.String("accounts", "", "CSV: address,login,password")
	admin := fs.String("admin", "", "administrator login for proxy logins (rows without a password)")
	adminPwFile := fs.String("admin-password-file", "", "file holding the administrator's password (or env GOVMAIL_IMPORT_ADMIN_PASSWORD)")
	adminStyle := fs.String("admin-style", migrate.AdminDovecot, "dovecot (LOGIN user*admin) or authzid (SASL PLAIN, Zimbra)")
	sep := fs.String("master-separator", "*", "Dovecot's auth_master_user_separator")
	parallel := fs.Int("parallel", 2, "accounts copied at once")
	mirror := fs.Bool("mirror-deletes", false, "remove copies of messages and folders deleted on the old side")
	caFile := fs.String("ca", "", "PEM file of the CA that signed the old server's certificate")
	insecure := fs.Bool("tls-insecure", false, "do not verify the old server's certificate")
	plaintext := fs.Bool("plaintext", false, "imap:// without STARTTLS")
	fetchBatch := fs.Int("fetch-batch", migrate.DefaultFetchBatch, "UIDs per FETCH")
	ignoreSize := fs.Bool("ignore-size", false, "accept bodies whose length differs from RFC822.SIZE")
	every := fs.Duration("progress", 5*time.Second, "progress interval on stderr (0: none)")
	debugFile := fs.String("debug-imap", "", "write the IMAP conversation to this file (it holds passwords)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *from == "" || *accountsFile == "" {
		fmt.Fprint(stderr, importUsage)
		return errors.New("usage: govmail import imap --from imaps://old-host:993 --accounts accounts.csv")
	}
	f, err := os.Open(*accountsFile)
	if err != nil {
		return err
	}
	accounts, err := migrate.ReadIMAPAccounts(f)
	f.Close()
	if err != nil {
		return err
	}
	opts := migrate.IMAPOptions{URL: *from, Plaintext: *plaintext, Parallel: *parallel, MirrorDeletes: *mirror,
		FetchBatch: *fetchBatch, IgnoreSize: *ignoreSize}
	if _, err := opts.SourceKey(); err != nil {
		return err
	}
	tc := &tls.Config{InsecureSkipVerify: *insecure}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s: không có chứng thư PEM nào / no PEM certificate", *caFile)
		}
		tc.RootCAs = pool
	}
	opts.TLSConfig = tc
	if *insecure {
		fmt.Fprintln(stderr, "Cảnh báo: không kiểm tra chứng thư máy chủ cũ / warning: the old server's certificate is not verified")
	}
	if *admin != "" {
		pw := os.Getenv("GOVMAIL_IMPORT_ADMIN_PASSWORD")
		if *adminPwFile != "" {
			b, err := os.ReadFile(*adminPwFile)
			if err != nil {
				return err
			}
			pw = strings.TrimRight(string(b), "\r\n")
		}
		if pw == "" {
			return errors.New("--admin cần --admin-password-file hoặc GOVMAIL_IMPORT_ADMIN_PASSWORD / --admin needs a password")
		}
		if *adminStyle != migrate.AdminDovecot && *adminStyle != migrate.AdminAuthzID {
			return fmt.Errorf("--admin-style %q: dovecot or authzid", *adminStyle)
		}
		opts.Admin = &migrate.AdminLogin{User: *admin, Password: pw, Style: *adminStyle, Separator: *sep}
	}
	if *debugFile != "" {
		dw, err := os.OpenFile(*debugFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer dw.Close()
		opts.DebugWriter = dw
	}
	im, closeStore, err := newImporter(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer closeStore()
	if *every > 0 {
		stopProgress := im.Progress.Run(stderr, im.Clock, *every)
		defer stopProgress()
	}
	rep, err := im.ImportIMAP(ctx, opts, accounts)
	if err != nil {
		return err
	}
	rep.Write(stdout)
	return verdict(ctx, rep.Verified(), func() int {
		n := 0
		for _, a := range rep.Accounts {
			if !a.Verified() {
				n++
			}
		}
		return n
	}())
}

// verdict turns a report into the exit status: non-zero when anything did
// not verify, so that a script running the sync for weeks notices.
func verdict(ctx context.Context, ok bool, failed int) error {
	if ctx.Err() != nil {
		return fmt.Errorf("đã dừng giữa chừng; chạy lại để tiếp tục / interrupted; run again to continue: %w", ctx.Err())
	}
	if !ok {
		return fmt.Errorf("%d tài khoản chưa kiểm chứng được, xem báo cáo / %d accounts did not verify, see the report", failed, failed)
	}
	return nil
}

func cmdImportFile(ctx context.Context, kind string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	to := fs.String("to", "", "our address, e.g. hoant.skhcn@sonla.gov.vn")
	folder := fs.String("folder", "", "our folder (default INBOX)")
	rd := fs.Bool("mboxrd", false, "mbox only: unescape \">From \" lines (mboxrd)")
	every := fs.Duration("progress", 5*time.Second, "progress interval on stderr (0: none)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *to == "" {
		return fmt.Errorf("usage: govmail import %s PATH --to ADDRESS [--folder F]", kind)
	}
	im, closeStore, err := newImporter(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer closeStore()
	if *every > 0 {
		stopProgress := im.Progress.Run(stderr, im.Clock, *every)
		defer stopProgress()
	}
	opts := migrate.FileOptions{Address: strings.ToLower(strings.TrimSpace(*to)), Folder: *folder, MboxRD: *rd}
	var rep *migrate.AccountReport
	if kind == "mbox" {
		rep, err = im.ImportMbox(ctx, pos[0], opts)
	} else {
		rep, err = im.ImportMaildir(ctx, pos[0], opts)
	}
	if err != nil {
		return err
	}
	rep.Write(stdout)
	failed := 0
	if !rep.Verified() {
		failed = 1
	}
	return verdict(ctx, rep.Verified(), failed)
}

func cmdImportDirectory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import directory", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	out := fs.String("out", "", "directory for the password lists (default ./mat-khau-YYYYMMDD-HHMMSS)")
	quota := fs.Int64("quota", 0, "quota in bytes (default from configuration)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fmt.Fprint(stderr, importUsage)
		return errors.New("usage: govmail import directory units.csv accounts.csv [--out DIR]")
	}
	var units io.Reader
	if pos[0] != "-" && pos[0] != "" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		units = f
	}
	accounts, err := os.Open(pos[1])
	if err != nil {
		return err
	}
	defer accounts.Close()
	cfg, st, err := openStore(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if *quota == 0 {
		*quota = cfg.Policy.QuotaBytes
	}
	clk := importClock()
	d := &migrate.DirectoryImport{Store: st, Directory: newDirectory(cfg, st), Clock: clk, Domains: cfg.Domains,
		QuotaBytes: *quota, Generate: password.Generate, Hash: password.Hash, Actor: "cli:import"}
	rep, err := d.Import(ctx, units, accounts)
	if err != nil {
		return err
	}
	rep.Write(stdout)
	dir := *out
	if dir == "" {
		dir = "mat-khau-" + clk.Now().Format("20060102-150405")
	}
	files, err := rep.WriteLists(dir)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		fmt.Fprintln(stdout, "Danh sách mật khẩu theo đơn vị / password lists per unit (giữ kín, xóa sau khi giao / keep safe, delete once handed out):")
		for _, f := range files {
			fmt.Fprintln(stdout, "  "+f)
		}
	}
	if !rep.OK() {
		return fmt.Errorf("%d dòng không nhập được / rows not imported", len(rep.Errors))
	}
	return nil
}
