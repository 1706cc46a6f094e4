package bench

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	cases := []struct {
		name    string
		samples []time.Duration
		want    Percentiles
	}{
		{"none", nil, Percentiles{}},
		{"one", ms(7), Percentiles{7 * time.Millisecond, 7 * time.Millisecond}},
		{"two", ms(9, 1), Percentiles{1 * time.Millisecond, 9 * time.Millisecond}},
		{"hundred", ms(hundred...), Percentiles{50 * time.Millisecond, 99 * time.Millisecond}},
	}
	for _, c := range cases {
		if got := percentiles(c.samples); got != c.want {
			t.Errorf("%s: percentiles = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestParseMemory(t *testing.T) {
	cases := []struct {
		name       string
		status     string
		rss, peak  int64
		wantErrSub string
	}{
		{"ok", "Name:\tskiff\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t9\n", 100 << 20, 200 << 20, ""},
		{"missing", "Name:\tskiff\nVmRSS:\t 1 kB\n", 0, 0, "no VmRSS and VmHWM"},
		{"bad unit", "VmHWM:\t1 MB\nVmRSS:\t1 kB\n", 0, 0, "unexpected VmHWM"},
	}
	for _, c := range cases {
		rss, peak, err := parseMemory(bufio.NewScanner(strings.NewReader(c.status)))
		if c.wantErrSub != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErrSub) {
				t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.wantErrSub)
			}
			continue
		}
		if err != nil || rss != c.rss || peak != c.peak {
			t.Errorf("%s: got %d, %d, %v; want %d, %d", c.name, rss, peak, err, c.rss, c.peak)
		}
	}
}

func TestFormatting(t *testing.T) {
	cases := []struct{ got, want string }{
		{perSecond(1049.6), "1,050/s"},
		{perSecond(5800), "5,800/s"},
		{perSecond(123), "123/s"},
		{perSecond(1234567), "1,234,567/s"},
		{millis(1500 * time.Microsecond), "1.50 ms"},
		{millis(123456 * time.Microsecond), "123 ms"},
		{seconds(2400 * time.Millisecond), "2.40 s"},
		{megabytes(264e6), "264 MB"},
		{kib(2560), "2.5 KiB"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestMarkdownRows(t *testing.T) {
	r := &APIResults{
		Config:           Config{Pods: 10000, Workers: 32, Watchers: 1000},
		CreatesPerSecond: 3000, JSONCreatesPerSecond: 2500, JSONPods: 2500, RawPutsStored: 6000, RawPutsSent: 7500, SentPodBytes: 2048, StoredPodBytes: 5632, Changes: 20,
		LoadedRSS: 300e6,
	}
	md := r.Markdown()
	for _, want := range []string{
		"| Pod creates/s, 32 workers, 10000 pods, protobuf (2.0 KiB JSON sent, 5.5 KiB stored) | 3,000/s | ~1,050/s |",
		"| Pod creates/s, 32 workers, 2500 more pods, JSON | 2,500/s | – |",
		"| Raw etcd puts/s, 32 workers, 5.5 KiB values (pod as stored) | 6,000/s | ~5,800/s |",
		"| Raw etcd puts/s, 32 workers, 2.0 KiB values (pod as sent) | 7,500/s | – |",
		"| API creates / raw etcd puts (stored size; sent size) | 50%; 40% | ~18% (target ≥ 50%) |",
		"| Server RSS holding 10000 pods | 300 MB | 640–830 MB |",
		"| One update reaching all 1000 watchers, p50 / p99 of 20 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	if got := strings.Count(md, "\n"); got != len(r.Rows())+2 {
		t.Errorf("table has %d lines, want %d", got, len(r.Rows())+2)
	}
}

func TestParseCPUTime(t *testing.T) {
	cases := []struct {
		name, stat string
		want       time.Duration
		wantErr    bool
	}{
		{"plain", "4242 (skiff) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0", 3250 * time.Millisecond, false},
		{"name with spaces and parentheses", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0", 30 * time.Millisecond, false},
		{"truncated", "7 (skiff) S 1 7", 0, true},
		{"no name", "7 skiff S", 0, true},
		{"not a number", "7 (skiff) S 1 7 7 0 -1 0 0 0 0 0 x 2 0 0", 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseCPUTime(c.stat)
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("parseCPUTime = %v, %v; want %v, error %v", got, err, c.want, c.wantErr)
			}
		})
	}
}
