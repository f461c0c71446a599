// Command govmail is the whole mail system in one binary: `govmail serve` runs it,
// `govmail admin …` manages it, `govmail bench` measures it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"govmail/internal/app"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/workdays"
)

const usage = `govmail — hệ thống thư điện tử / the e-mail system

Usage:
  govmail serve [-data DIR | -config FILE]       run every service
  govmail admin unit import [FILE.csv]           load units (default: the shipped Sơn La list)
  govmail admin unit add --name N --kind K [--parent P] [--abbr A]
  govmail admin unit set UNIT [--manager A] [--security A] [--name N]
  govmail admin unit list | export
  govmail admin address suggest --unit U --name "Họ Tên" [--birth-year Y]
  govmail admin account add --unit U --name "Họ Tên" [--birth-year Y]   address by the rule of Điều 5
  govmail admin account add ADDRESS [--password P] [--name N] [--unit U] [--role operator]
  govmail admin account lock|restore|revoke ADDRESS [--reason R] [--note N]
  govmail admin request file --kind K --unit U --doc SỐ --doc-date YYYY-MM-DD [--address A]… [--person "Họ Tên;1990"]…
  govmail admin request list [--state received] | show ID | carry ID | reject ID --reason "…"
  govmail admin delegate grant|remove UNIT-MAILBOX PERSON
  govmail admin log search [--address A] [--ip IP] [--status S] [--since D] [--until D] [--csv]
  govmail admin queue list|retry|hold|drop …     the outbound queue
  govmail admin dns [DOMAIN] [--ip4 A] [--ip6 A] [--rotate|--retire]   DNS records to publish (MX, SPF, DKIM, DMARC, MTA-STS)
  govmail admin report [--period 2026-11|2026-Q4|2026 | --from D --to D] [--unit U] [--format html|csv|xlsx] [--out FILE] [--mail ADDR]…
  govmail admin outage publish --what "…" [--since "2026-11-27 08:00"] --until "2026-11-27 12:00" [--unit U]… | close ID [--note N] | list [--all]
  govmail admin token create --account A --scope S [--expires 365d] | list | revoke ID   REST API tokens
  govmail admin held list | release ADDRESS UID | drop ADDRESS UID   mail held by the prohibited-use policy (R4.2)
  govmail admin authreports list [--kind dmarc|tls] | show ID | send   DMARC and TLS reports received; send ours now
  govmail admin jobs                            run the daily jobs now (idempotent)
  govmail account passwd ADDRESS                 change your own password (reads old and new from stdin)
  govmail backup DIR [-data D]                  consistent online backup (database, bodies, keys)
  govmail restore BACKUP -data D                a new data directory from a backup, checked
  govmail import imap --from imaps://HOST:993 --accounts accounts.csv [--mirror-deletes] | mbox|maildir PATH --to ADDRESS | directory units.csv accounts.csv
  govmail migrate --to postgres://USER@HOST/DB [-data D]   copy a SQLite deployment to PostgreSQL (stop serve first)
  govmail bench [-quick] [-pg DSN [-nodes N]] | -load 5m   measure delivery, FETCH, SEARCH and memory; or the load test

The default data directory is ./data; it is created with a configuration file
(govmail.toml), a SQLite database, a blob directory and a self-signed certificate.
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "govmail:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "admin":
		return cmdAdmin(ctx, args[1:], stdout, stderr)
	case "account":
		return cmdAccount(ctx, args[1:], stdin, stdout, stderr)
	case "bench":
		return cmdBench(ctx, args[1:], stdout, stderr)
	case "import":
		return cmdImport(ctx, args[1:], stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, args[1:], stdout, stderr)
	case "backup":
		return cmdBackup(ctx, args[1:], stdout, stderr)
	case "restore":
		return cmdRestore(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// dataFlags are the flags that find the configuration.
type dataFlags struct {
	data, config string
}

func (d *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.data, "data", "./data", "data directory (created on first run)")
	fs.StringVar(&d.config, "config", "", "configuration file (default DATA/govmail.toml)")
}

// load finds or creates the configuration.
func (d *dataFlags) load(stdout io.Writer) (config.Config, error) {
	path := d.config
	if path == "" {
		p, created, err := app.Init(d.data)
		if err != nil {
			return config.Config{}, err
		}
		if created {
			fmt.Fprintf(stdout, "Đã tạo thư mục dữ liệu / created data directory: %s\n", d.data)
		}
		path = p
	}
	return config.Load(path)
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := df.load(stdout)
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	clk := clock.InZone{Clock: clock.Real{}, Loc: workdays.Location()}
	st, err := app.OpenStore(ctx, cfg, clk, log)
	if err != nil {
		return err
	}
	a, err := app.New(cfg, st, clk, log)
	if err != nil {
		st.Close()
		return err
	}
	if addr, pw, err := a.EnsureOperator(ctx); err != nil {
		return err
	} else if addr != "" {
		fmt.Fprintf(stdout, "Tài khoản quản trị đầu tiên / first operator: %s\nMật khẩu dùng một lần / one-time password: %s\n(phải đổi khi đăng nhập lần đầu / must be changed at first login)\n", addr, pw)
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	names := make([]string, 0, len(a.Addrs))
	for n := range a.Addrs {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(stdout, "govmail %s đang chạy / running (data %s)\n", cfg.Hostname, cfg.DataDir)
	for _, n := range names {
		for _, addr := range a.Addrs[n] {
			fmt.Fprintf(stdout, "  %-12s %s\n", n, addr)
		}
	}
	fmt.Fprintln(stdout, "Sẵn sàng / ready.")
	<-ctx.Done()
	fmt.Fprintln(stdout, "Đang dừng / shutting down…")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return a.Shutdown(sctx)
}
