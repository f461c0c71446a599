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

	"govmail/internal/api"
	"govmail/internal/store"
	"govmail/internal/workdays"
)

const tokenUsage = `usage:
  govmail admin token create --account A --scope S [--scope S2 | --scope S1,S2] [--expires 365d|720h|YYYY-MM-DD|never] [--name N]
  govmail admin token list [--account A]
  govmail admin token revoke ID
scopes: ` + "read, requests:write, requests:handle, units:write, accounts:write, delegations:write, absences:write, logs:read"

// cmdToken manages API tokens for other provincial systems (R7.7, R14.4). The
// token is printed once at creation; only its hash is kept.
func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(tokenUsage)
	}
	sub := args[0]
	if sub != "create" && sub != "list" && sub != "revoke" {
		return errors.New(tokenUsage)
	}
	fs := flag.NewFlagSet("admin token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	account := fs.String("account", "", "address of the account the token acts as (a person or a service account)")
	var scopes multiFlag
	fs.Var(&scopes, "scope", "scope (repeatable or comma-separated)")
	expires := fs.String("expires", "365d", "when it ends: 90d, 720h, YYYY-MM-DD or never")
	name := fs.String("name", "", "what uses it, e.g. \"Hệ thống QLVB tỉnh\"")
	by := fs.String("by", "cli", "who creates or revokes it (operator's address), for the audit log")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	_, st, err := openStore(ctx, &df, io.Discard, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	ts, ok := st.(store.TokenStore)
	if !ok {
		return errors.New("this store keeps no API tokens")
	}
	now := time.Now()
	audit := func(action, target, detail string) error {
		return st.AppendAudit(ctx, store.AuditEntry{Time: now, Actor: *by, Action: action, Target: target, Detail: detail})
	}
	switch sub {
	case "create":
		if *account == "" || len(pos) != 0 {
			return errors.New(tokenUsage)
		}
		acc, err := st.AccountByAddress(ctx, strings.ToLower(strings.TrimSpace(*account)))
		if err != nil {
			return fmt.Errorf("không có tài khoản / no account %s: %w", *account, err)
		}
		exp, err := api.ParseExpiry(*expires, now)
		if err != nil {
			return err
		}
		text, t, err := api.IssueToken(ctx, ts, now, acc, *name, scopes, exp, *by)
		if err != nil {
			return err
		}
		if err := audit("token.create", acc.Address, fmt.Sprintf("#%d %s scopes=%s expires=%s", t.ID, t.Name, strings.Join(t.Scopes, ","), expiryText(t.ExpiresAt))); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Mã truy cập API / API token #%d cho / for %s\n", t.ID, acc.Address)
		fmt.Fprintf(stdout, "Phạm vi / scopes: %s\nHết hạn / expires: %s\n\n", strings.Join(t.Scopes, " "), expiryText(t.ExpiresAt))
		fmt.Fprintf(stdout, "%s\n\n", text)
		fmt.Fprintln(stdout, "Mã chỉ hiển thị một lần; hãy lưu vào hệ thống dùng nó. / Shown once only: store it in the system that uses it.")
		fmt.Fprintln(stdout, "Dùng / use: Authorization: Bearer <token>")
		return nil
	case "list":
		if len(pos) != 0 {
			return errors.New(tokenUsage)
		}
		var accountID int64
		if *account != "" {
			acc, err := st.AccountByAddress(ctx, strings.ToLower(strings.TrimSpace(*account)))
			if err != nil {
				return fmt.Errorf("không có tài khoản / no account %s: %w", *account, err)
			}
			accountID = acc.ID
		}
		list, err := ts.APITokens(ctx, accountID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tACCOUNT\tNAME\tTOKEN\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATE")
		for _, t := range list {
			addr := strconv.FormatInt(t.AccountID, 10)
			if acc, err := st.AccountByID(ctx, t.AccountID); err == nil {
				addr = acc.Address
			}
			state := "active"
			switch {
			case !t.RevokedAt.IsZero():
				state = "revoked " + localTime(t.RevokedAt)
			case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
				state = "expired"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s…\t%s\t%s\t%s\t%s\t%s\n", t.ID, addr, t.Name, t.Prefix, strings.Join(t.Scopes, ","),
				localTime(t.CreatedAt), expiryText(t.ExpiresAt), localTime(t.LastUsedAt), state)
		}
		return tw.Flush()
	case "revoke":
		if len(pos) != 1 {
			return errors.New(tokenUsage)
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil {
			return fmt.Errorf("ID %q: %w", pos[0], err)
		}
		t, err := ts.APITokenByID(ctx, id)
		if err != nil {
			return fmt.Errorf("token #%d: %w", id, err)
		}
		if err := ts.RevokeAPIToken(ctx, id, now); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("mã #%d đã bị thu hồi / token #%d was already revoked", id, id)
			}
			return err
		}
		target := strconv.FormatInt(t.AccountID, 10)
		if acc, err := st.AccountByID(ctx, t.AccountID); err == nil {
			target = acc.Address
		}
		if err := audit("token.revoke", target, fmt.Sprintf("#%d %s", t.ID, t.Name)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Đã thu hồi mã / revoked token #%d (%s)\n", id, target)
		return nil
	}
	return errors.New(tokenUsage)
}

func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(workdays.Location()).Format("2006-01-02 15:04")
}

func expiryText(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return localTime(t)
}
