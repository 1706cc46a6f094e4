package cronjob

import "time"

// tooManyMissed is how many missed runs the controller reports as
// TooManyMissedTimes.
const tooManyMissed = 100

// mostRecent returns the latest time in (earliest, now] the schedule
// fires, and how many times it fired in that interval (counted up to
// tooManyMissed+1). It returns the zero time if none.
func mostRecent(s *Schedule, earliest, now time.Time) (time.Time, int) {
	var last time.Time
	missed := 0
	for t := s.Next(earliest); !t.IsZero() && !t.After(now); t = s.Next(t) {
		last = t
		missed++
		if missed > tooManyMissed {
			return lastFiring(s, t, now), missed
		}
	}
	return last, missed
}

// lastFiring finds the latest firing in [from, now], given that from is
// one, by searching back from now over a doubling window: the work is
// proportional to the firings in the last window, not since from.
func lastFiring(s *Schedule, from, now time.Time) time.Time {
	for w := time.Minute; ; w *= 2 {
		start := now.Add(-w)
		if !start.After(from) {
			start = from.Add(-time.Minute)
		}
		t := s.Next(start)
		if t.IsZero() || t.After(now) {
			continue
		}
		for n := s.Next(t); !n.IsZero() && !n.After(now); n = s.Next(n) {
			t = n
		}
		return t
	}
}
