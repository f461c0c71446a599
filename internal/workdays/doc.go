// Package workdays owns every day count of the regulation (REQUIREMENTS "Counting time",
// rules C1–C4, and R0.1, R8.2, R8.4, R8.5): civil dates in Vietnam's time zone, periods in
// calendar days and in months, and working days by the official holiday calendar of
// Vietnam, with computed defaults (Labour Code 2019, Art. 112, and the Vietnamese lunar
// calendar at UTC+7) for years whose official schedule is not loaded.
//
// It is pure computation: it never reads the clock, a database or the network. Callers
// turn an instant into a Date with DateOf and pass "today" in, so that every rule can be
// tested on any day. Which rule applies to which account is lifecycle's business, not
// this package's.
package workdays
