package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"govmail/internal/authreport"
	"govmail/internal/delivery"
	"govmail/internal/queue"
)

// newAuthReports builds the DMARC aggregate and TLS report service (issue 5,
// part 4). Received reports are read whatever the configuration; ours are
// counted and sent only with reports.auth_reports and outbound delivery on.
func (a *App) newAuthReports() {
	a.AuthReports = &authreport.Service{Store: a.Store, Resolver: a.resolver(), Clock: a.Clock,
		Hostname: a.Cfg.Hostname, From: "postmaster@" + a.Cfg.Domains[0], Domains: a.Cfg.Domains,
		Logger: a.Log.With("component", "authreport"), Submit: a.submitReport}
}

// sendingAuthReports tells whether our own reports are counted and sent.
func (a *App) sendingAuthReports() bool {
	return a.Cfg.Reports.AuthReports && a.Cfg.Outbound.Enabled
}

// submitReport queues one report message; the queue signs it with DKIM.
func (a *App) submitReport(ctx context.Context, from string, to []string, raw []byte) error {
	if a.queue == nil {
		return errors.New("outbound delivery is off")
	}
	rcpts := make([]queue.Recipient, len(to))
	for i, t := range to {
		rcpts[i] = queue.Recipient{Address: t}
	}
	if _, err := a.queue.Submit(ctx, &queue.Submission{From: from, Recipients: rcpts, AuthUser: "system:authreport",
		ClientHelo: "authreport", Proto: "LOCAL", Body: raw}); err != nil {
		return err
	}
	a.queue.Wake()
	return nil
}

// takeReports reads the DMARC and TLS reports mailed to our postmaster
// address (the rua of the records `govmail admin dns` publishes). The mail is
// delivered as any other; this only keeps what it reports for the portal.
func (a *App) takeReports(ctx context.Context, env *delivery.Envelope, delivered []delivery.Delivered, raw []byte) {
	for _, d := range delivered {
		if d.Err != nil || d.Held || !a.isReportAddress(d.Recipient.Address) {
			continue
		}
		n, err := a.AuthReports.Intake(context.WithoutCancel(ctx), raw)
		if err != nil {
			// Most postmaster mail is no report: not worth more than debug.
			a.Log.Debug("postmaster mail carries no readable report", "from", env.From, "err", err)
		} else if n > 0 {
			a.Log.Info("authentication reports received", "from", env.From, "new", n)
		}
		return
	}
}

func (a *App) isReportAddress(addr string) bool {
	local, domain, ok := strings.Cut(strings.ToLower(addr), "@")
	if !ok || local != "postmaster" {
		return false
	}
	for _, d := range a.Cfg.Domains {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// flushAuthReports writes the counted outcomes to the store every 10 s until
// ctx ends; Shutdown writes what is left.
func (a *App) flushAuthReports(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.AuthReports.Flush(ctx); err != nil && ctx.Err() == nil {
				a.Log.Warn("authentication report counts not written yet", "err", err)
			}
		}
	}
}

// runAuthReports sends the reports of finished UTC days: checked hourly, so
// they leave within the hour after midnight UTC whatever the daily jobs' time.
func (a *App) runAuthReports(ctx context.Context) {
	run := func() {
		release, ok := a.jobLock(ctx, "authreports")
		if !ok {
			return
		}
		defer release()
		if _, err := a.AuthReports.Run(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("authentication reports", "err", err)
		}
	}
	run()
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			run()
		}
	}
}
