package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"
)

const queueUsage = `usage:
  govmail admin queue list [--domain D] [--user ADDRESS] [--held]
  govmail admin queue retry ID|all     make due now (and release held mail)
  govmail admin queue hold ID [--reason TEXT]
  govmail admin queue drop ID          remove without delivering or bouncing
`

// cmdAdminQueue lets operators see and steer the outbound queue. The running
// server picks up a retry at its next poll.
func cmdAdminQueue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, queueUsage)
		return errors.New("admin queue: no subcommand")
	}
	fs := flag.NewFlagSet("admin queue "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	domain := fs.String("domain", "", "only messages with a recipient in this domain")
	user := fs.String("user", "", "only messages submitted by this account")
	held := fs.Bool("held", false, "only held messages")
	reason := fs.String("reason", "operator", "why the message is held")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	_, st, err := openStore(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	qs, ok := st.(store.QueueStore)
	if !ok {
		return errors.New("this store has no outbound queue")
	}
	id := func() (int64, error) {
		if len(pos) != 1 {
			fmt.Fprint(stderr, queueUsage)
			return 0, errors.New("admin queue: one ID expected")
		}
		if pos[0] == "all" && args[0] == "retry" {
			return 0, nil
		}
		n, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("admin queue: bad ID %q", pos[0])
		}
		return n, nil
	}
	now := clock.Real{}.Now()
	switch args[0] {
	case "list":
		f := store.QueueFilter{Domain: *domain, AuthUser: *user, Limit: 10000}
		if *held {
			f.Held = held
		}
		msgs, err := qs.ListQueue(ctx, f)
		if err != nil {
			return err
		}
		printQueue(stdout, msgs, now)
		return nil
	case "retry":
		n, err := id()
		if err != nil {
			return err
		}
		c, err := qs.RetryQueue(ctx, n, now)
		if err != nil {
			return queueErr(n, err)
		}
		fmt.Fprintf(stdout, "Đã đặt gửi lại ngay %d người nhận / %d recipients due now\n", c, c)
		return nil
	case "hold":
		n, err := id()
		if err != nil {
			return err
		}
		if _, err := qs.HoldQueue(ctx, n, "", *reason); err != nil {
			return queueErr(n, err)
		}
		fmt.Fprintf(stdout, "Đã giữ thư %d / message %d held\n", n, n)
		return nil
	case "drop":
		n, err := id()
		if err != nil {
			return err
		}
		m, err := qs.QueueMessage(ctx, n)
		if err != nil {
			return queueErr(n, err)
		}
		if err := qs.DropQueue(ctx, n); err != nil {
			return queueErr(n, err)
		}
		// R11.1: what happened to every recipient is in the log, this too.
		var logs []store.LogEntry
		for _, r := range m.Recipients {
			if r.State != store.QueueQueued {
				continue
			}
			logs = append(logs, store.LogEntry{Time: now, Direction: "out", Proto: "smtp", EnvelopeFrom: m.From, HeaderFrom: m.HeaderFrom,
				Recipient: r.Address, ClientIP: m.ClientIP, Size: m.Size, MessageID: m.MessageID, AuthUser: m.AuthUser,
				Status: store.LogRefused, Error: "dropped from the queue by an operator; no DSN sent"})
		}
		if len(logs) > 0 {
			if err := st.AppendLog(ctx, logs); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "Đã xoá thư %d khỏi hàng đợi / message %d dropped\n", n, n)
		return nil
	}
	fmt.Fprint(stderr, queueUsage)
	return fmt.Errorf("admin queue: unknown subcommand %q", args[0])
}

func queueErr(id int64, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("không có thư %d trong hàng đợi / no message %d in the queue", id, id)
	}
	return err
}

func printQueue(w io.Writer, msgs []store.QueuedMessage, now time.Time) {
	if len(msgs) == 0 {
		fmt.Fprintln(w, "Hàng đợi trống / the queue is empty")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tQUEUED\tAGE\tSIZE\tFROM\tRECIPIENT\tSTATE\tTRIES\tNEXT\tLAST REPLY")
	for _, m := range msgs {
		from := m.From
		if from == "" {
			from = "<> (DSN)"
		}
		state := ""
		if m.Held {
			state = "held:" + m.HoldReason
		}
		for i, r := range m.Recipients {
			id, q, age, size, f := "", "", "", "", ""
			if i == 0 {
				id, q, age, size, f = strconv.FormatInt(m.ID, 10), m.CreatedAt.Format("2006-01-02 15:04"),
					now.Sub(m.CreatedAt).Round(time.Minute).String(), strconv.FormatInt(m.Size, 10), from
			}
			st := string(r.State)
			if state != "" && r.State == store.QueueQueued {
				st = state
			}
			next := ""
			if r.State == store.QueueQueued && !m.Held {
				next = r.NextAttempt.Format("01-02 15:04")
			}
			reply := r.LastError
			if len(reply) > 80 {
				reply = reply[:77] + "..."
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", id, q, age, size, f, r.Address, st, r.Attempts, next, strings.ReplaceAll(reply, "\t", " "))
		}
	}
	tw.Flush()
}
