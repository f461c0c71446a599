package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"govmail/internal/app"
	"govmail/internal/clock"
	"govmail/internal/config"
	"govmail/internal/lifecycle"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

// lifeApp opens the store and builds the services the lifecycle commands use.
func lifeApp(ctx context.Context, df *dataFlags, stdout, stderr io.Writer) (*app.App, error) {
	cfg, err := df.load(io.Discard)
	if err != nil {
		return nil, err
	}
	log := app.NewLogger(config.Log{Level: "warn"}, stderr)
	clk := clock.InZone{Clock: clock.Real{}, Loc: workdays.Location()}
	st, err := app.OpenStore(ctx, cfg, clk, log)
	if err != nil {
		return nil, err
	}
	a, err := app.New(cfg, st, clk, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

func lifeRefusal(err error) error {
	var le *lifecycle.Error
	if errors.As(err, &le) {
		return errors.New(le.VI + " / " + le.EN)
	}
	return refusal(err)
}

func cmdRequest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: govmail admin request file|list|show|carry|reject …")
	}
	fs := flag.NewFlagSet("admin request "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	kind := fs.String("kind", "", "create, modify, revoke or restore")
	unit := fs.String("unit", "", "requesting unit (local part)")
	doc := fs.String("doc", "", "document number and symbol, e.g. 125/SKHCN-VP")
	docDate := fs.String("doc-date", "", "document date YYYY-MM-DD")
	var addrs, people multiFlag
	fs.Var(&addrs, "address", "mailbox concerned (repeatable)")
	fs.Var(&people, "person", "for create: \"Họ Tên[;năm sinh]\" (repeatable)")
	newUnit := fs.String("new-unit", "", "modify: transfer to this unit")
	quota := fs.Int64("quota", 0, "modify: new quota in bytes")
	reason := fs.String("reason", "", "reject: the reason (required)")
	state := fs.String("state", "", "list: received, done or rejected")
	by := fs.String("by", "cli", "who acts (address of the operator or unit manager)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	a, err := lifeApp(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.Store.Close()
	switch args[0] {
	case "file":
		in := lifecycle.RequestInput{Kind: *kind, UnitLP: *unit, DocNumber: *doc, DocDate: *docDate, Addresses: addrs, FiledBy: *by}
		for _, p := range people {
			name, year, _ := strings.Cut(p, ";")
			y, _ := strconv.Atoi(strings.TrimSpace(year))
			in.People = append(in.People, lifecycle.PersonSpec{FullName: strings.TrimSpace(name), BirthYear: y})
		}
		if *newUnit != "" || *quota != 0 {
			in.Modify = &lifecycle.ModifySpec{NewUnitLP: *newUnit, QuotaBytes: *quota}
		}
		r, err := a.Life.FileRequest(ctx, in)
		if err != nil {
			return lifeRefusal(err)
		}
		fmt.Fprintf(stdout, "Đã tiếp nhận đề nghị / request received: #%d (%s, %s)", r.ID, r.Kind, r.DocNumber)
		if r.Deadline != "" {
			fmt.Fprintf(stdout, ", hạn xử lý / due by end of %s", r.Deadline)
		}
		fmt.Fprintln(stdout)
	case "list":
		rs, err := a.Store.ListRequests(ctx, store.RequestFilter{State: *state})
		if err != nil {
			return err
		}
		today := workdays.DateOf(a.Clock.Now(), workdays.Location()).String()
		for _, r := range rs {
			flag := ""
			if r.State == store.RequestReceived && r.Deadline != "" && r.Deadline < today {
				flag = "  QUÁ HẠN / OVERDUE"
			}
			fmt.Fprintf(stdout, "#%-5d %-8s %-9s %-20s nhận/received %s  hạn/due %-10s%s\n", r.ID, r.Kind, r.State, r.DocNumber,
				r.ReceivedAt.In(workdays.Location()).Format("2006-01-02 15:04"), r.Deadline, flag)
		}
	case "carry", "reject", "show":
		if len(pos) != 1 {
			return fmt.Errorf("usage: govmail admin request %s ID", args[0])
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(pos[0], "#"), 10, 64)
		if err != nil {
			return fmt.Errorf("request id %q", pos[0])
		}
		var out *lifecycle.Outcome
		switch args[0] {
		case "carry":
			out, err = a.Life.Carry(ctx, id, *by)
		case "reject":
			out, err = a.Life.Reject(ctx, id, *reason, *by)
		default:
			evs, err := a.Store.RequestEvents(ctx, id)
			if err != nil {
				return err
			}
			for _, e := range evs {
				fmt.Fprintf(stdout, "%s  %-10s %-24s %s\n", e.Time.In(workdays.Location()).Format("2006-01-02 15:04"), e.Action, e.Actor, e.Detail)
			}
			return nil
		}
		if err != nil {
			return lifeRefusal(err)
		}
		fmt.Fprintf(stdout, "Đề nghị #%d: %s\n", out.Request.ID, out.Request.State)
		for _, l := range out.Lines {
			fmt.Fprintln(stdout, "  "+l)
		}
		for addr, pw := range out.Passwords {
			fmt.Fprintf(stdout, "  %s mật khẩu dùng một lần / one-time password: %s\n", addr, pw)
		}
	default:
		return fmt.Errorf("unknown request command %q", args[0])
	}
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// cmdAccountState is `admin account lock|restore|revoke ADDRESS`.
func cmdAccountState(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin account "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	reason := fs.String("reason", store.LockOperator, "lock: inactivity, compromised, prohibited_content or operator")
	note := fs.String("note", "", "lock: evidence or document reference; restore, revoke: the document reference (required, Điều 7.1, 8.3a)")
	by := fs.String("by", "cli", "who acts")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: govmail admin account %s ADDRESS", verb)
	}
	a, err := lifeApp(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.Store.Close()
	acc, err := a.Store.AccountByAddress(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("không có hộp thư / no mailbox %s", pos[0])
	}
	switch verb {
	case "lock":
		err = a.Life.Lock(ctx, acc.ID, *reason, *note, *by)
	case "restore":
		var pw string
		if pw, err = a.Life.Restore(ctx, acc.ID, *by, *note); err == nil {
			fmt.Fprintf(stdout, "Mật khẩu dùng một lần / one-time password: %s\n", pw)
		}
	case "revoke":
		err = a.Life.Revoke(ctx, acc.ID, *by, *note)
	}
	if err != nil {
		return lifeRefusal(err)
	}
	fmt.Fprintf(stdout, "%s: %s\n", acc.Address, verb)
	return nil
}

func cmdDelegate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 || (args[0] != "grant" && args[0] != "remove") {
		return errors.New("usage: govmail admin delegate grant|remove UNIT-MAILBOX PERSON")
	}
	fs := flag.NewFlagSet("admin delegate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	by := fs.String("by", "cli", "who acts")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return errors.New("usage: govmail admin delegate grant|remove UNIT-MAILBOX PERSON")
	}
	a, err := lifeApp(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.Store.Close()
	if args[0] == "grant" {
		err = a.Life.GrantDelegate(ctx, pos[0], pos[1], *by)
	} else {
		err = a.Life.RemoveDelegate(ctx, pos[0], pos[1], *by)
	}
	if err != nil {
		return lifeRefusal(err)
	}
	fmt.Fprintf(stdout, "%s %s → %s\n", args[0], pos[1], pos[0])
	return nil
}

func cmdJobs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin jobs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	a, err := lifeApp(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.Store.Close()
	a.Life.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	rep, err := a.Life.RunDaily(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "khóa/locked %d, thu hồi/revoked %d, nhắc/reminders %d, đề nghị quá hạn/overdue requests %d\n", rep.Locked, rep.Revoked, rep.Reminders, rep.Overdue)
	return nil
}
