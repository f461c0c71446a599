package app

import (
	"context"
	"time"

	"govmail/internal/maillog"
	"govmail/internal/throttle"
	"govmail/internal/workdays"
)

// runDailyJobs runs the lifecycle jobs once at start (they are idempotent, so a
// restart never skips a day) and then every day at cfg.DailyJobsAt local time.
func (a *App) runDailyJobs(ctx context.Context) {
	ret := &maillog.Retention{Store: a.Store, Clock: a.Clock, Months: a.Cfg.Policy.LogRetentionMonths, Logger: a.Log}
	run := func() {
		release, ok := a.jobLock(ctx, "daily")
		if !ok {
			return
		}
		defer release()
		if _, err := a.Life.RunDaily(ctx); err != nil {
			a.Log.Error("daily jobs", "err", err)
		}
		if _, err := ret.Purge(ctx); err != nil {
			a.Log.Error("log retention", "err", err)
		}
		if _, err := a.Reports.Run(ctx); err != nil {
			a.Log.Error("monthly report", "err", err)
		}
		if sh, ok := a.throttle.(*throttle.Shared); ok {
			if _, err := sh.Sweep(ctx, a.Clock.Now()); err != nil {
				a.Log.Error("throttle sweep", "err", err)
			}
		}
	}
	run()
	for {
		next := nextRun(a.Clock.Now(), a.Cfg.DailyJobsAt)
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			run()
		}
	}
}

// jobLock takes the named job lock when the store has one: with several
// nodes on one database, one of them runs each job (DESIGN decision 4); the
// jobs are idempotent either way. ok is false when another node holds it.
func (a *App) jobLock(ctx context.Context, name string) (release func(), ok bool) {
	l, has := a.Store.(interface {
		TryJobLock(ctx context.Context, name string) (func(), bool, error)
	})
	if !has {
		return func() {}, true
	}
	release, got, err := l.TryJobLock(ctx, name)
	if err != nil {
		a.Log.Error("job lock", "job", name, "err", err)
		return nil, false
	}
	return release, got
}

// nextRun is the next moment at HH:MM in the province's time zone after now.
func nextRun(now time.Time, hhmm string) time.Time {
	loc := workdays.Location()
	hm, err := time.Parse("15:04", hhmm)
	if err != nil {
		hm = time.Date(0, 1, 1, 0, 30, 0, 0, time.UTC)
	}
	l := now.In(loc)
	next := time.Date(l.Year(), l.Month(), l.Day(), hm.Hour(), hm.Minute(), 0, 0, loc)
	if !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}
