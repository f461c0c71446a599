package workdays

import (
	_ "embed"
	"fmt"
	"strings"
)

// shippedCSV is the product's own copy of the working-day calendar (the official
// schedules for 2025–2026 and the computed guess for 2027). The reference copy lives in
// the shared specification data; a test keeps the two equal.
//
//go:embed holidays-vn.csv
var shippedCSV string

// Shipped returns a calendar holding the schedules shipped with govmail, with computed
// defaults for every other year. Operators' edits are loaded over it with LoadCSV.
func Shipped() (*Calendar, error) {
	c := DefaultCalendar()
	if err := c.LoadCSV(strings.NewReader(shippedCSV)); err != nil {
		return nil, fmt.Errorf("workdays: shipped calendar: %w", err)
	}
	return c, nil
}
