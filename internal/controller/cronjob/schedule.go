package cronjob

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed cron schedule.
type Schedule struct {
	// minute, hour, dom, month and dow have bit v set when value v is
	// allowed.
	minute, hour, dom, month, dow uint64
	// domStar and dowStar record a "*" (or "?") day field: cron matches
	// either day field when both are restricted, else both.
	domStar, dowStar bool
	// loc is the zone the schedule is read in.
	loc *time.Location
}

// fieldSpec describes one of the five fields.
type fieldSpec struct {
	name     string
	min, max int
	names    map[string]int
}

func fieldSpecs() [5]fieldSpec {
	months := map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	days := map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
	return [5]fieldSpec{
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day of month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: months},
		{name: "day of week", min: 0, max: 7, names: days}, // 7 is Sunday too
	}
}

// macros are the named schedules.
func macros() map[string]string {
	return map[string]string{
		"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
		"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
	}
}

// Parse reads a schedule in loc; a "CRON_TZ=<zone> " or "TZ=<zone> "
// prefix overrides loc.
func Parse(spec string, loc *time.Location) (*Schedule, error) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=") {
		zone, rest, _ := strings.Cut(spec, " ")
		_, name, _ := strings.Cut(zone, "=")
		l, err := time.LoadLocation(name)
		if err != nil {
			return nil, fmt.Errorf("unknown time zone %q: %w", name, err)
		}
		loc, spec = l, strings.TrimSpace(rest)
	}
	if m, ok := macros()[spec]; ok {
		spec = m
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return nil, fmt.Errorf("expected 5 fields, found %d: %q", len(fields), spec)
	}
	if loc == nil {
		loc = time.Local
	}
	s := &Schedule{loc: loc}
	specs := fieldSpecs()
	out := [5]*uint64{&s.minute, &s.hour, &s.dom, &s.month, &s.dow}
	for i, f := range fields {
		bitsSet, err := parseField(f, specs[i])
		if err != nil {
			return nil, err
		}
		*out[i] = bitsSet
	}
	if s.dow&(1<<7) != 0 {
		s.dow |= 1 // Sunday
	}
	s.domStar = fields[2] == "*" || fields[2] == "?"
	s.dowStar = fields[4] == "*" || fields[4] == "?"
	return s, nil
}

// parseField reads a comma-separated list of "*", values, ranges "a-b" and
// steps "*/n" or "a-b/n" or "a/n".
func parseField(field string, spec fieldSpec) (uint64, error) {
	var set uint64
	for part := range strings.SplitSeq(field, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		lo, hi := spec.min, spec.max
		if rng != "*" && rng != "?" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = parseValue(a, spec); err != nil {
				return 0, err
			}
			hi = lo
			if isRange {
				if hi, err = parseValue(b, spec); err != nil {
					return 0, err
				}
			} else if hasStep {
				hi = spec.max // "a/n" runs from a to the end
			}
		}
		if hi < lo {
			return 0, fmt.Errorf("%s: range %q runs backwards", spec.name, rng)
		}
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("%s: bad step %q", spec.name, stepStr)
			}
			step = n
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

func parseValue(s string, spec fieldSpec) (int, error) {
	if v, ok := spec.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: bad value %q", spec.name, s)
	}
	if v < spec.min || v > spec.max {
		return 0, fmt.Errorf("%s: %d is out of range [%d, %d]", spec.name, v, spec.min, spec.max)
	}
	return v, nil
}

// Next returns the first time after t the schedule fires, or the zero
// time if there is none in the next five years.
func (s *Schedule) Next(t time.Time) time.Time {
	t = t.In(s.loc).Truncate(time.Minute).Add(time.Minute)
	limit := t.Year() + 5
	for t.Year() <= limit {
		switch {
		case s.month&(1<<uint(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, s.loc)
		case !s.dayMatches(t):
			t = later(t, time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, s.loc))
		case s.hour&(1<<uint(t.Hour())) == 0:
			t = later(t, time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, s.loc))
		case s.minute&(1<<uint(t.Minute())) == 0:
			t = t.Add(time.Duration(nextBit(s.minute, t.Minute())-t.Minute()) * time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

// later returns next, or, when a daylight-saving gap made time.Date land
// at or before t, the start of the next hour in absolute time.
func later(t, next time.Time) time.Time {
	if next.After(t) {
		return next
	}
	return t.Add(time.Hour - time.Duration(t.Minute())*time.Minute)
}

// nextBit returns the lowest set bit of set above from, or 60 (the next
// hour) if none.
func nextBit(set uint64, from int) int {
	rest := set >> uint(from+1) << uint(from+1)
	if rest == 0 {
		return 60
	}
	return bits.TrailingZeros64(rest)
}

func (s *Schedule) dayMatches(t time.Time) bool {
	dom := s.dom&(1<<uint(t.Day())) != 0
	dow := s.dow&(1<<uint(t.Weekday())) != 0
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}
