package registry

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cronField describes one of the five fields of a standard cron schedule.
type cronField struct {
	name     string
	min, max int
	// names maps lower-case symbolic values ("jan", "mon") to numbers.
	names map[string]int
}

// cronFields returns the five standard fields in order: minute, hour, day
// of month, month, day of week.
func cronFields() []cronField {
	months := map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	days := map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
	return []cronField{
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day of month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: months},
		{name: "day of week", min: 0, max: 6, names: days},
	}
}

// cronSchedule is a parsed schedule: one bit set per allowed value of each
// field, or a fixed interval for "@every".
type cronSchedule struct {
	fields   [5]uint64
	every    time.Duration
	location *time.Location
}

// parseCronSchedule parses the schedule syntax CronJobs accept: five
// space-separated fields (minute hour day-of-month month day-of-week) with
// "*", "?", lists, ranges, steps and month/day names, or one of the macros
// @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly and
// "@every <duration>", optionally preceded by "TZ=<zone>" or
// "CRON_TZ=<zone>".
func parseCronSchedule(spec string) (*cronSchedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("empty spec string")
	}
	s := &cronSchedule{location: time.Local}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		zone, rest, _ := strings.Cut(spec, " ")
		_, name, _ := strings.Cut(zone, "=")
		loc, err := time.LoadLocation(name)
		if err != nil {
			return nil, fmt.Errorf("provided bad location %s: %w", name, err)
		}
		s.location = loc
		spec = strings.TrimSpace(rest)
	}
	if strings.HasPrefix(spec, "@") {
		return s, s.parseMacro(spec)
	}
	parts := strings.Fields(spec)
	if len(parts) != 5 {
		return nil, fmt.Errorf("expected exactly 5 fields, found %d: %s", len(parts), spec)
	}
	for i, f := range cronFields() {
		bits, err := parseCronField(parts[i], f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		s.fields[i] = bits
	}
	return s, nil
}

// parseMacro fills s from one of the "@" descriptors.
func (s *cronSchedule) parseMacro(spec string) error {
	// Each macro is the equivalent five-field schedule.
	macros := map[string]string{
		"@yearly":   "0 0 1 1 *",
		"@annually": "0 0 1 1 *",
		"@monthly":  "0 0 1 * *",
		"@weekly":   "0 0 * * 0",
		"@daily":    "0 0 * * *",
		"@midnight": "0 0 * * *",
		"@hourly":   "0 * * * *",
	}
	if expanded, ok := macros[spec]; ok {
		parsed, err := parseCronSchedule(expanded)
		if err != nil {
			return err
		}
		s.fields = parsed.fields
		return nil
	}
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return fmt.Errorf("failed to parse duration %s: %w", spec, err)
		}
		if d <= 0 {
			return fmt.Errorf("duration must be positive: %s", spec)
		}
		s.every = d
		return nil
	}
	return fmt.Errorf("unrecognized descriptor: %s", spec)
}

// parseCronField parses one comma-separated field into a bit set.
func parseCronField(expr string, f cronField) (uint64, error) {
	var bits uint64
	for _, item := range strings.Split(expr, ",") {
		b, err := parseCronRange(item, f)
		if err != nil {
			return 0, err
		}
		bits |= b
	}
	return bits, nil
}

// parseCronRange parses "*", "?", "n", "a-b", each optionally followed by
// "/step".
func parseCronRange(expr string, f cronField) (uint64, error) {
	rangePart, stepPart, hasStep := strings.Cut(expr, "/")
	if strings.Contains(stepPart, "/") {
		return 0, fmt.Errorf("too many slashes: %s", expr)
	}
	start, end := f.min, f.max
	switch {
	case rangePart == "*" || rangePart == "?":
	default:
		lo, hi, isRange := strings.Cut(rangePart, "-")
		if strings.Contains(hi, "-") {
			return 0, fmt.Errorf("too many hyphens: %s", expr)
		}
		var err error
		if start, err = cronValue(lo, f); err != nil {
			return 0, err
		}
		end = start
		if isRange {
			if end, err = cronValue(hi, f); err != nil {
				return 0, err
			}
		} else if hasStep {
			// "n/step" runs from n to the end of the field.
			end = f.max
		}
	}
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepPart)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("step of range should be a positive number: %s", expr)
		}
		step = n
	}
	switch {
	case start < f.min:
		return 0, fmt.Errorf("beginning of range (%d) below minimum (%d): %s", start, f.min, expr)
	case end > f.max:
		return 0, fmt.Errorf("end of range (%d) above maximum (%d): %s", end, f.max, expr)
	case start > end:
		return 0, fmt.Errorf("beginning of range (%d) beyond end of range (%d): %s", start, end, expr)
	}
	var bits uint64
	for v := start; v <= end; v += step {
		bits |= 1 << uint(v)
	}
	return bits, nil
}

// cronValue parses a number or a symbolic name of the field.
func cronValue(s string, f cronField) (int, error) {
	if v, ok := f.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("failed to parse int from %s: %w", s, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative number (%d) not allowed: %s", n, s)
	}
	return n, nil
}
