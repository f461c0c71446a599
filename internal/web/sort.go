package web

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"govmail/internal/mailparse"
	"govmail/internal/textfold"
)

// listOrders are the orders a folder can be listed in (issue 8 part 3:
// "paged and sortable"). Newest first is the default and uses the cached date
// list; the others read the folder's metadata once per page view.
var listOrders = []string{"newest", "oldest", "from", "subject", "size"}

// sortOption is one choice of the list's order menu.
type sortOption struct {
	Value, Label string
	Current      bool
}

func (s *Server) sortOptions(rc *reqCtx, current string) []sortOption {
	out := make([]sortOption, len(listOrders))
	for i, o := range listOrders {
		out[i] = sortOption{Value: o, Label: s.cat.T(rc.lang, "list.sort."+o), Current: o == current}
	}
	return out
}

// orderedUIDs returns the folder's UIDs in the requested order, always in a
// fresh slice.
func (s *Server) orderedUIDs(ctx context.Context, mbID int64, order string) ([]uint32, error) {
	switch order {
	case "from", "subject", "size":
		return s.keyOrderedUIDs(ctx, mbID, order)
	}
	// Date orders come from the cached list; the others never read it, so a
	// cold cache does not cost them a second read of the folder.
	sorted, err := s.cache.Sorted(ctx, s.d.Store, mbID)
	if err != nil {
		return nil, err
	}
	uids := make([]uint32, len(sorted))
	for i, e := range sorted {
		uids[i] = e.UID
	}
	if order == "oldest" {
		slices.Reverse(uids)
	}
	return uids, nil
}

// keyOrderedUIDs sorts by sender, subject or size, reading the folder's
// metadata once.
func (s *Server) keyOrderedUIDs(ctx context.Context, mbID int64, order string) ([]uint32, error) {
	msgs, _, err := s.d.Store.Messages(ctx, mbID, order != "size")
	if err != nil {
		return nil, err
	}
	// Keys are folded so that "Đ" sorts with "D" and accents do not scatter a name.
	type keyed struct {
		uid  uint32
		key  string
		size int64
	}
	ks := make([]keyed, len(msgs))
	for i, m := range msgs {
		ks[i] = keyed{uid: m.UID, size: m.Size}
		if order == "size" {
			continue
		}
		env, err := mailparse.DecodeEnvelope(m.Meta)
		if err != nil || env == nil {
			continue
		}
		switch order {
		case "from":
			if len(env.From) > 0 {
				ks[i].key = textfold.Search(env.From[0].Name + " " + env.From[0].Addr())
			}
		case "subject":
			ks[i].key = textfold.Search(strings.TrimSpace(env.Subject))
		}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		if order == "size" {
			return cmp.Compare(b.size, a.size) // largest first: what one looks for to free space
		}
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(b.uid, a.uid)
	})
	// A fresh slice: a delivery between the two reads may change the count.
	out := make([]uint32, len(ks))
	for i, k := range ks {
		out[i] = k.uid
	}
	return out, nil
}
