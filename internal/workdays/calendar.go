package workdays

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"unicode"
	"unicode/utf8"
)

// ErrInvalidEntry is returned for a calendar entry or CSV row that cannot be right.
var ErrInvalidEntry = errors.New("workdays: invalid calendar entry")

// Kind says how an entry changes a date: a Holiday is a weekday off (public holiday,
// compensatory day, weekday swapped off), a MakeupWorkday a Saturday or Sunday worked
// (làm bù). These are the two values of the kind column of holidays-vn.csv.
type Kind int

// The kinds of entry.
const (
	Holiday Kind = iota + 1
	MakeupWorkday
)

// String returns the CSV spelling of k.
func (k Kind) String() string {
	switch k {
	case Holiday:
		return "holiday"
	case MakeupWorkday:
		return "makeup_workday"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind reads the CSV spelling of a kind.
func ParseKind(s string) (Kind, error) {
	switch s {
	case "holiday":
		return Holiday, nil
	case "makeup_workday":
		return MakeupWorkday, nil
	}
	return 0, fmt.Errorf("%w: kind %q is neither holiday nor makeup_workday", ErrInvalidEntry, s)
}

// Entry is one row of the calendar: a date whose working-day status differs from the
// Monday–Friday rule. Name is the Vietnamese name shown to operators; Note records the
// source ("official; …", "computed; …").
type Entry struct {
	Date Date
	Kind Kind
	Name string
	Note string
}

// Validate reports why e cannot be a calendar entry.
func (e Entry) Validate() error {
	if e.Date.IsZero() {
		return fmt.Errorf("%w: no date", ErrInvalidEntry)
	}
	if e.Kind != Holiday && e.Kind != MakeupWorkday {
		return fmt.Errorf("%w: %s: unknown kind %d", ErrInvalidEntry, e.Date, int(e.Kind))
	}
	// A make-up day on a weekday would change nothing, so it can only be a mistyped date
	// and would hide the Saturday that was meant.
	if e.Kind == MakeupWorkday && !isWeekend(e.Date) {
		return fmt.Errorf("%w: %s is a %s, a make-up working day must be a Saturday or Sunday",
			ErrInvalidEntry, e.Date, e.Date.Weekday())
	}
	if e.Name == "" {
		return fmt.Errorf("%w: %s: empty name", ErrInvalidEntry, e.Date)
	}
	if err := checkText(e.Name); err != nil {
		return fmt.Errorf("%w: %s: name %v", ErrInvalidEntry, e.Date, err)
	}
	if err := checkText(e.Note); err != nil {
		return fmt.Errorf("%w: %s: note %v", ErrInvalidEntry, e.Date, err)
	}
	return nil
}

// checkText refuses what would not survive a round trip through the CSV file and the
// portal: invalid UTF-8 and control characters (a CSV reader turns a quoted CR LF into
// LF, so such a name would silently change).
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("contains control character %U", r)
		}
	}
	return nil
}

// Calendar tells working days from days off (C3). A year has either a table — loaded
// from holidays-vn.csv or an operator's edit, or materialised from the computed
// defaults — or, until it gets one, the computed defaults of DefaultEntries. A table
// always replaces the defaults of its year as a whole: an official schedule may move
// a holiday the computation placed elsewhere, and a mixture would keep both.
//
// A Calendar is safe for concurrent use, so that operators can edit it while daily jobs
// read it. It must not be copied after first use.
type Calendar struct {
	mu       sync.RWMutex
	tables   map[int]map[Date]Entry
	computed map[int]map[Date]Entry // cache of DefaultEntries for years without a table
}

// DefaultCalendar returns a calendar whose tables for the given years hold the computed
// defaults, so that operators can review, edit and export them; every other year uses
// the computed defaults without a table.
func DefaultCalendar(years ...int) *Calendar {
	c := &Calendar{}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, y := range years {
		c.materialise(y)
	}
	return c
}

// IsWorkingDay reports whether d is a working day: Monday to Friday unless the calendar
// lists it as a holiday, and a Saturday or Sunday only when listed as a make-up day.
func (c *Calendar) IsWorkingDay(d Date) bool {
	if e, ok := c.Lookup(d); ok {
		return e.Kind == MakeupWorkday
	}
	return !isWeekend(d)
}

// AddWorkingDays returns the deadline of "n working days from receipt" (C3, R8.5): the
// day of receipt is not counted, whatever day it is, and the deadline is the end of the
// n-th working day after it. A negative n counts back to the |n|-th working day before
// receipt; n == 0 returns receipt.
func (c *Calendar) AddWorkingDays(receipt Date, n int) Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	d := receipt
	for n > 0 {
		d = d.AddDays(step)
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return d
}

// WorkingDaysBetween counts the working days after from up to and including to — the
// working days used of a deadline counted from receipt on from. It is negative when to
// is before from.
func (c *Calendar) WorkingDaysBetween(from, to Date) int {
	if to.Before(from) {
		return -c.WorkingDaysBetween(to, from)
	}
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if c.IsWorkingDay(d) {
			n++
		}
	}
	return n
}

// Lookup returns the entry in force for d: from the table of d's year when there is one,
// else from the computed defaults.
func (c *Calendar) Lookup(d Date) (Entry, bool) {
	e, ok := c.yearEntries(d.y)[d]
	return e, ok
}

// Year returns the entries in force for a year, sorted by date: its table, or the
// computed defaults when it has none.
func (c *Calendar) Year(year int) []Entry {
	return sortedEntries(c.yearEntries(year))
}

// HasTable reports whether year has a table of its own (loaded, edited or materialised)
// rather than the computed defaults.
func (c *Calendar) HasTable(year int) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.tables[year]
	return ok
}

// Years returns the years that have a table, in order.
func (c *Calendar) Years() []int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ys := make([]int, 0, len(c.tables))
	for y := range c.tables {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	return ys
}

// Entries returns every entry of every table, sorted by date: what WriteCSV writes.
func (c *Calendar) Entries() []Entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var es []Entry
	for _, t := range c.tables {
		for _, e := range t {
			es = append(es, e)
		}
	}
	sortEntries(es)
	return es
}

// Set adds e, replacing any entry of the same date. A year without a table first gets
// the computed defaults as its table, so that adding 24 November (C4) to a computed
// year keeps its Tết.
func (c *Calendar) Set(e Entry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.editable(e.Date.y)
	t[e.Date] = e
	c.tables[e.Date.y] = t
	return nil
}

// Remove deletes the entry for d, so that d follows the Monday–Friday rule, and reports
// whether there was one. Like Set, it first gives a computed year its table.
func (c *Calendar) Remove(d Date) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.editable(d.y)
	_, ok := t[d]
	delete(t, d)
	c.tables[d.y] = t
	return ok
}

// DropYear deletes the table of a year, which returns to the computed defaults, and
// reports whether it had one.
func (c *Calendar) DropYear(year int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.tables[year]
	delete(c.tables, year)
	return ok
}

// replaceYears installs whole year tables at once, so that a loaded file either
// applies completely or not at all.
func (c *Calendar) replaceYears(ts map[int]map[Date]Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tables == nil {
		c.tables = make(map[int]map[Date]Entry, len(ts))
	}
	for y, t := range ts {
		c.tables[y] = t
	}
}

// yearEntries returns the map in force for a year. Published maps are never modified
// (see editable), so it may be read after the lock is released; callers must not
// modify it either.
func (c *Calendar) yearEntries(year int) map[Date]Entry {
	c.mu.RLock()
	t, ok := c.tables[year]
	if !ok {
		t, ok = c.computed[year]
	}
	c.mu.RUnlock()
	if ok {
		return t
	}
	// Computed outside the lock: it takes tens of microseconds of astronomy, and two
	// goroutines computing the same year get the same answer.
	t = entryMap(DefaultEntries(year))
	c.mu.Lock()
	defer c.mu.Unlock()
	if tt, ok := c.tables[year]; ok {
		return tt
	}
	if c.computed == nil {
		c.computed = make(map[int]map[Date]Entry)
	}
	c.computed[year] = t
	return t
}

// materialise gives a year without a table the computed defaults as its table. The
// caller holds the write lock.
func (c *Calendar) materialise(year int) {
	if _, ok := c.tables[year]; ok {
		return
	}
	if c.tables == nil {
		c.tables = make(map[int]map[Date]Entry)
	}
	c.tables[year] = entryMap(DefaultEntries(year))
}

// editable returns a copy of a year's table (materialised first) for the caller to
// change and store back. Tables are never changed in place: readers use a year's map
// after releasing the lock, so a published map must stay as it is.
func (c *Calendar) editable(year int) map[Date]Entry {
	c.materialise(year)
	old := c.tables[year]
	t := make(map[Date]Entry, len(old)+1)
	for d, e := range old {
		t[d] = e
	}
	return t
}

func entryMap(es []Entry) map[Date]Entry {
	m := make(map[Date]Entry, len(es))
	for _, e := range es {
		m[e.Date] = e
	}
	return m
}

func sortedEntries(m map[Date]Entry) []Entry {
	es := make([]Entry, 0, len(m))
	for _, e := range m {
		es = append(es, e)
	}
	sortEntries(es)
	return es
}
