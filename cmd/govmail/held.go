package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"govmail/internal/held"
	"govmail/internal/workdays"
)

// cmdHeld is `govmail admin held list | release ADDRESS UID | drop ADDRESS UID`
// (R4.2: operators release held mail).
func cmdHeld(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: govmail admin held list | release ADDRESS UID | drop ADDRESS UID")
	}
	fs := flag.NewFlagSet("admin held", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var df dataFlags
	df.register(fs)
	by := fs.String("by", "cli", "who acts")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	a, err := lifeApp(ctx, &df, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.Store.Close()
	h := &held.Service{Store: a.Store, Clock: a.Clock, Logger: a.Log}
	switch args[0] {
	case "list":
		items, err := h.List(ctx, 500)
		if err != nil {
			return err
		}
		for _, it := range items {
			fmt.Fprintf(stdout, "%-32s %6d  %s  %-30s %s\n", it.Address, it.UID, it.InternalDate.In(workdays.Location()).Format("2006-01-02 15:04"), it.From, it.Subject)
		}
		return nil
	case "release", "drop":
		if len(pos) != 2 {
			return fmt.Errorf("usage: govmail admin held %s ADDRESS UID", args[0])
		}
		uid, err := strconv.ParseUint(pos[1], 10, 32)
		if err != nil {
			return fmt.Errorf("UID %q", pos[1])
		}
		if args[0] == "release" {
			err = h.Release(ctx, pos[0], uint32(uid), *by)
		} else {
			err = h.Drop(ctx, pos[0], uint32(uid), *by)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s %d\n", args[0], pos[0], uid)
		return nil
	}
	return fmt.Errorf("unknown held command %q", args[0])
}
