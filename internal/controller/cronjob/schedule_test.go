package cronjob

import (
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	utc := time.UTC
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		spec string
		from string
		want string
	}{
		{"* * * * *", "2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z"},
		{"*/15 * * * *", "2026-01-01T00:14:00Z", "2026-01-01T00:15:00Z"},
		{"*/15 * * * *", "2026-01-01T00:45:00Z", "2026-01-01T01:00:00Z"},
		{"5,10-12 3 * * *", "2026-01-01T03:10:00Z", "2026-01-01T03:11:00Z"},
		{"5,10-12 3 * * *", "2026-01-01T03:12:00Z", "2026-01-02T03:05:00Z"},
		{"0 0 * * mon", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"}, // 2026-01-01 is a Thursday
		{"0 0 * * 7", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
		{"0 0 13 * fri", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"}, // either day field
		{"0 12 1 jan-mar/2 *", "2026-01-02T00:00:00Z", "2026-03-01T12:00:00Z"},
		{"30 2/6 * * *", "2026-01-01T03:00:00Z", "2026-01-01T08:30:00Z"},
		{"@hourly", "2026-01-01T10:30:00Z", "2026-01-01T11:00:00Z"},
		{"@daily", "2026-01-01T10:30:00Z", "2026-01-02T00:00:00Z"},
		{"@weekly", "2026-01-01T10:30:00Z", "2026-01-04T00:00:00Z"},
		{"@monthly", "2026-01-15T10:30:00Z", "2026-02-01T00:00:00Z"},
		{"@yearly", "2026-01-15T10:30:00Z", "2027-01-01T00:00:00Z"},
		{"0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		// 09:00 in New York is 14:00 UTC in winter.
		{"CRON_TZ=America/New_York 0 9 * * *", "2026-01-01T00:00:00Z", "2026-01-01T14:00:00Z"},
	} {
		s, err := Parse(tc.spec, utc)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.spec, err)
			continue
		}
		if got := s.Next(at(tc.from)); !got.Equal(at(tc.want)) {
			t.Errorf("%q after %s = %s, want %s", tc.spec, tc.from, got.UTC().Format(time.RFC3339), tc.want)
		}
	}
	// Spring forward: 02:30 does not exist on 2026-03-08 in New York.
	s, _ := Parse("30 2 * * *", ny)
	if got := s.Next(time.Date(2026, 3, 8, 0, 0, 0, 0, ny)); !got.Equal(time.Date(2026, 3, 9, 2, 30, 0, 0, ny)) {
		t.Errorf("across DST: %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, spec := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
		"*/0 * * * *", "5-1 * * * *", "x * * * *", "CRON_TZ=Nowhere/Land * * * * *", "@sometimes"} {
		if _, err := Parse(spec, time.UTC); err == nil {
			t.Errorf("Parse(%q) succeeded", spec)
		}
	}
}
