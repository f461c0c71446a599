package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"govmail/internal/outage"
	"govmail/internal/workdays"
)

// cmdOutage is `govmail admin outage publish|close|list` (Điều 14, R14.1).
func cmdOutage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = `usage: govmail admin outage publish --what "…" [--since "2026-11-27 08:00"] --until "2026-11-27 12:00" [--unit U]…
       govmail admin outage close ID [--note "…"]
       govmail admin outage list [--all]`
	if len(args) == 0 {
		return errors.New(use)
	}
	fs := flag.NewFlagSet("admin outage "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	what := fs.String("what", "", "publish: what is interrupted")
	since := fs.String("since", "", "publish: since when, \"YYYY-MM-DD HH:MM\" local time (default now)")
	until := fs.String("until", "", "publish: expected restoration, \"YYYY-MM-DD HH:MM\" local time")
	var units multiFlag
	fs.Var(&units, "unit", "publish: a unit concerned, with its sub-units (repeatable; default every unit)")
	note := fs.String("note", "", "close: what was done")
	all := fs.Bool("all", false, "list: closed notices too")
	by := fs.String("by", "cli", "who acts (the operator's address)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	loc := workdays.Location()
	parseTime := func(flagName, s string) (time.Time, error) {
		for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "15:04 02/01/2006"} {
			if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), loc); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("--%s %q: viết / write \"2026-11-27 08:00\"", flagName, s)
	}
	var id int64
	switch args[0] {
	case "publish":
		if len(pos) != 0 || *what == "" || *until == "" {
			return errors.New(use)
		}
	case "close":
		if len(pos) != 1 {
			return errors.New(use)
		}
		if id, err = strconv.ParseInt(strings.TrimPrefix(pos[0], "#"), 10, 64); err != nil {
			return fmt.Errorf("outage id %q", pos[0])
		}
	case "list":
		if len(pos) != 0 {
			return errors.New(use)
		}
	default:
		return errors.New(use)
	}
	a, err := lifeApp(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.Store.Close()
	ost, ok := a.Store.(outage.Store)
	if !ok {
		return errors.New("this store keeps no outage notices")
	}
	svc := &outage.Service{Store: ost, Notify: a.Notify, Clock: a.Clock, Logger: a.Log}
	switch args[0] {
	case "publish":
		in := outage.PublishInput{What: *what, Since: a.Clock.Now(), Units: units, Actor: *by}
		if *since != "" {
			if in.Since, err = parseTime("since", *since); err != nil {
				return err
			}
		}
		if in.Until, err = parseTime("until", *until); err != nil {
			return err
		}
		res, err := svc.Publish(ctx, in)
		var oe *outage.Error
		if errors.As(err, &oe) {
			return errors.New(oe.Error())
		}
		if res != nil {
			fmt.Fprintf(stdout, "Đã đăng thông báo gián đoạn / outage notice published: #%d, gửi tới / mailed to %d hộp thư / mailboxes\n",
				res.Notice.ID, len(res.Recipients))
			if len(res.Unreached) > 0 {
				fmt.Fprintf(stdout, "Đơn vị không có hộp thư đơn vị và thủ trưởng, không gửi được / units with neither a unit mailbox nor a manager (%d): %s\n",
					len(res.Unreached), strings.Join(res.Unreached, ", "))
			}
		}
		return err
	case "close":
		res, err := svc.Close(ctx, id, *by, *note)
		if errors.Is(err, outage.ErrNotOpen) {
			return fmt.Errorf("không có thông báo #%d đang mở / no open notice #%d", id, id)
		}
		if res != nil {
			fmt.Fprintf(stdout, "Đã đóng thông báo / notice closed: #%d, đã báo khôi phục tới / all-clear mailed to %d hộp thư / mailboxes\n",
				id, len(res.Recipients))
		}
		return err
	default:
		list, err := svc.Active(ctx)
		if *all {
			list, err = svc.List(ctx)
		}
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(stdout, "Không có thông báo / no notices")
		}
		for _, n := range list {
			state := "ĐANG MỞ / OPEN"
			if !n.Open() {
				state = "đã đóng / closed " + n.ClosedAt.In(loc).Format("2006-01-02 15:04")
			}
			scope := "tất cả / all"
			if len(n.Units) > 0 {
				scope = strings.Join(n.Units, ",")
			}
			fmt.Fprintf(stdout, "#%-4d %s → %s  %-40s  [%s]  %s\n", n.ID, n.Since.In(loc).Format("2006-01-02 15:04"),
				n.Until.In(loc).Format("2006-01-02 15:04"), n.What, scope, state)
		}
	}
	return nil
}
