package workdays

import "math"

// The Vietnamese lunisolar calendar is the Chinese one reckoned at UTC+7 instead of
// UTC+8 (North Vietnam since 1967, the whole country since 1975): a month
// begins on the local date of an astronomical new moon, month 11 is the month holding
// the December solstice, and in a year of 13 months the first month without a major
// solar term (the Sun entering a multiple of 30° of longitude) is the leap month. The
// hour difference is why Tết sometimes falls a day or a month away from the Chinese New
// Year (1985, 2007, 2030), so nothing here may reuse a Chinese table.
//
// New moons come from Jean Meeus, Astronomical Algorithms (2nd ed.), chapter 49; the
// Sun's longitude from chapter 25 (about 0.01°, a quarter of an hour of solar motion,
// which only matters if a solar term falls within minutes of midnight). Both are meant
// for roughly 1900–2200; outside that, ΔT is an extrapolation and dates drift, which no
// deadline of this regulation will reach.

const (
	synodicMonth = 29.530588861 // mean synodic month, days
	j2000        = 2451545.0    // JD of 2000-01-01 12:00 TT
	vnOffset     = 7.0 / 24.0   // UTC+7, in days
	deg          = math.Pi / 180
)

// newMoonJDE returns the instant (Julian Ephemeris Day, TT) of true new moon number k,
// k = 0 being the new moon of 2000-01-06.
func newMoonJDE(k float64) float64 {
	t := k / 1236.85
	t2, t3, t4 := t*t, t*t*t, t*t*t*t
	jde := 2451550.09766 + synodicMonth*k + 0.00015437*t2 - 0.000000150*t3 + 0.00000000073*t4

	e := 1 - 0.002516*t - 0.0000074*t2
	m := (2.5534 + 29.10535670*k - 0.0000014*t2 - 0.00000011*t3) * deg                      // Sun's mean anomaly
	mp := (201.5643 + 385.81693528*k + 0.0107582*t2 + 0.00001238*t3 - 0.000000058*t4) * deg // Moon's mean anomaly
	f := (160.7108 + 390.67050284*k - 0.0016118*t2 - 0.00000227*t3 + 0.000000011*t4) * deg  // Moon's argument of latitude
	om := (124.7746 - 1.56375588*k + 0.0020672*t2 + 0.00000215*t3) * deg                    // longitude of the ascending node

	// Periodic terms for the new moon phase (Meeus table 49.A, new moon column).
	jde += -0.40720*math.Sin(mp) +
		0.17241*e*math.Sin(m) +
		0.01608*math.Sin(2*mp) +
		0.01039*math.Sin(2*f) +
		0.00739*e*math.Sin(mp-m) -
		0.00514*e*math.Sin(mp+m) +
		0.00208*e*e*math.Sin(2*m) -
		0.00111*math.Sin(mp-2*f) -
		0.00057*math.Sin(mp+2*f) +
		0.00056*e*math.Sin(2*mp+m) -
		0.00042*math.Sin(3*mp) +
		0.00042*e*math.Sin(m+2*f) +
		0.00038*e*math.Sin(m-2*f) -
		0.00024*e*math.Sin(2*mp-m) -
		0.00017*math.Sin(om) -
		0.00007*math.Sin(mp+2*m) +
		0.00004*math.Sin(2*mp-2*f) +
		0.00004*math.Sin(3*m) +
		0.00003*math.Sin(mp+m-2*f) +
		0.00003*math.Sin(2*mp+2*f) -
		0.00003*math.Sin(mp+m+2*f) +
		0.00003*math.Sin(mp-m+2*f) -
		0.00002*math.Sin(mp-m-2*f) -
		0.00002*math.Sin(3*mp+m) +
		0.00002*math.Sin(4*mp)

	// Planetary perturbations (Meeus, the fourteen additional arguments A1–A14).
	planetary := [14][3]float64{
		{299.77, 0.107408, 0.000325},
		{251.88, 0.016321, 0.000165},
		{251.83, 26.651886, 0.000164},
		{349.42, 36.412478, 0.000126},
		{84.66, 18.206239, 0.000110},
		{141.74, 53.303771, 0.000062},
		{207.14, 2.453732, 0.000060},
		{154.84, 7.306860, 0.000056},
		{34.52, 27.261239, 0.000047},
		{207.19, 0.121824, 0.000042},
		{291.34, 1.844379, 0.000040},
		{161.72, 24.198154, 0.000037},
		{239.56, 25.513099, 0.000035},
		{331.55, 3.592518, 0.000023},
	}
	for i, p := range planetary {
		a := p[0] + p[1]*k
		if i == 0 {
			a -= 0.009173 * t2
		}
		jde += p[2] * math.Sin(a*deg)
	}
	return jde
}

// deltaT returns TT − UT in days for a (fractional) year, from the polynomial fits of
// Espenak and Meeus. A new moon within a minute of local midnight is the only case in
// which this matters.
func deltaT(year float64) float64 {
	var s float64
	switch {
	case year < 1900:
		u := (year - 1820) / 100
		s = -20 + 32*u*u
	case year < 1920:
		t := year - 1900
		s = -2.79 + 1.494119*t - 0.0598939*t*t + 0.0061966*t*t*t - 0.000197*t*t*t*t
	case year < 1941:
		t := year - 1920
		s = 21.20 + 0.84493*t - 0.076100*t*t + 0.0020936*t*t*t
	case year < 1961:
		t := year - 1950
		s = 29.07 + 0.407*t - t*t/233 + t*t*t/2547
	case year < 1986:
		t := year - 1975
		s = 45.45 + 1.067*t - t*t/260 - t*t*t/718
	case year < 2005:
		t := year - 2000
		s = 63.86 + 0.3345*t - 0.060374*t*t + 0.0017275*t*t*t + 0.000651814*t*t*t*t + 0.00002373599*t*t*t*t*t
	case year < 2050:
		t := year - 2000
		s = 62.92 + 0.32217*t + 0.005589*t*t
	case year < 2150:
		u := (year - 1820) / 100
		s = -20 + 32*u*u - 0.5628*(2150-year)
	default:
		u := (year - 1820) / 100
		s = -20 + 32*u*u
	}
	return s / 86400
}

// newMoonDate returns the local (UTC+7) date of new moon k.
func newMoonDate(k int) Date {
	jde := newMoonJDE(float64(k))
	year := 2000 + (jde-j2000)/365.25
	return dateOfJD(jde - deltaT(year) + vnOffset)
}

// dateOfJD returns the date of a Julian Day already shifted to local time.
func dateOfJD(jd float64) Date {
	// JD 2440587.5 is 1970-01-01 00:00, day number 0.
	return fromDayNumber(int64(math.Floor(jd - 2440587.5)))
}

// localMidnightJD returns the Julian Day (UT) at which d begins in Vietnam.
func localMidnightJD(d Date) float64 {
	return float64(d.dayNumber()) + 2440587.5 - vnOffset
}

// sunLongitude returns the Sun's apparent ecliptic longitude in degrees [0, 360) at
// Julian Day jd (UT is close enough to TT for a quantity moving 1° a day).
func sunLongitude(jd float64) float64 {
	t := (jd - j2000) / 36525
	l0 := 280.46646 + 36000.76983*t + 0.0003032*t*t
	m := (357.52911 + 35999.05029*t - 0.0001537*t*t) * deg
	c := (1.914602-0.004817*t-0.000014*t*t)*math.Sin(m) +
		(0.019993-0.000101*t)*math.Sin(2*m) +
		0.000289*math.Sin(3*m)
	om := (125.04 - 1934.136*t) * deg
	lambda := l0 + c - 0.00569 - 0.00478*math.Sin(om)
	lambda = math.Mod(lambda, 360)
	if lambda < 0 {
		lambda += 360
	}
	return lambda
}

// termSector returns which 30° sector the Sun is in when d begins locally. A month
// [start, next) holds a major solar term exactly when the sector changes between the
// two starts, i.e. when the term's local date falls inside the month.
func termSector(d Date) int {
	return int(sunLongitude(localMidnightJD(d)) / 30)
}

// newMoonIndexOnOrBefore returns the number k of the last new moon whose local date is
// on or before d.
func newMoonIndexOnOrBefore(d Date) int {
	jd := localMidnightJD(d)
	k := int(math.Floor((jd - 2451550.09766) / synodicMonth))
	// The mean estimate is within a day or so of the true phase; step to the exact one.
	for i := 0; i < 4 && newMoonDate(k+1).Compare(d) <= 0; i++ {
		k++
	}
	for i := 0; i < 4 && newMoonDate(k).After(d); i++ {
		k--
	}
	return k
}

// month11 returns the index k of the new moon that begins month 11 of the lunar year
// whose December solstice falls in the given Gregorian year.
func month11(year int) int {
	k := newMoonIndexOnOrBefore(Date{year, 12, 31})
	// Sector 9 is 270°–300°: the solstice had already passed when that month began, so
	// the solstice belongs to the month before.
	if termSector(newMoonDate(k)) >= 9 {
		k--
	}
	return k
}

// lunarMonth is one month of the lunar calendar: its first day, its number and whether
// it is the leap (nhuận) repeat of that number.
type lunarMonth struct {
	start Date
	num   int
	leap  bool
}

// lunarMonths returns the months from month 11 of the lunar year ending in the Gregorian
// year before year up to, not including, the month 11 of year's solstice: every month of
// the lunar year that begins near the start of year, with its months 11 and 12 in front.
func lunarMonths(year int) []lunarMonth {
	a, b := month11(year-1), month11(year)
	n := b - a // 12, or 13 when the span holds a leap month
	leapAt := -1
	if n == 13 {
		for i := 1; i < n; i++ {
			if termSector(newMoonDate(a+i)) == termSector(newMoonDate(a+i+1)) {
				leapAt = i
				break
			}
		}
	}
	months := make([]lunarMonth, 0, n)
	num := 11
	for i := 0; i < n; i++ {
		if i == leapAt {
			months = append(months, lunarMonth{newMoonDate(a + i), num, true})
			continue
		}
		if i > 0 {
			num = num%12 + 1
		}
		months = append(months, lunarMonth{newMoonDate(a + i), num, false})
	}
	return months
}

// lunarToSolar returns the Gregorian date of day `day` of lunar month `month` (not the
// leap repeat) in the lunar year that begins in Gregorian year `year`.
func lunarToSolar(year, month, day int) Date {
	ms := lunarMonths(year)
	seenNewYear := false
	for _, m := range ms {
		if m.num == 1 && !m.leap {
			seenNewYear = true
		}
		if seenNewYear && m.num == month && !m.leap {
			return m.start.AddDays(day - 1)
		}
	}
	// Months 11 and 12 of the new lunar year lie past the span; they are not needed by
	// any holiday, so reaching here is a programming error in this package.
	panic("workdays: lunar month out of span")
}

// lunarNewYear returns mùng 1 Tết, the first day of lunar month 1 beginning in year.
func lunarNewYear(year int) Date { return lunarToSolar(year, 1, 1) }
