package server

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseLogLine(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	tests := []struct {
		line    string
		want    LogEntry
		wantErr bool
	}{
		{line: "2026-01-02T03:04:05.123456789Z stdout F hello world", want: LogEntry{Time: ts, Stream: "stdout", Content: []byte("hello world")}},
		{line: "2026-01-02T03:04:05.123456789Z stderr P part", want: LogEntry{Time: ts, Stream: "stderr", Partial: true, Content: []byte("part")}},
		{line: "2026-01-02T03:04:05.123456789Z stdout F ", want: LogEntry{Time: ts, Stream: "stdout", Content: []byte("")}},
		{line: "2026-01-02T03:04:05.123456789+00:00 stdout F x", want: LogEntry{Time: ts, Stream: "stdout", Content: []byte("x")}},
		// No tag (old runtimes): the rest is the content.
		{line: "2026-01-02T03:04:05.123456789Z stdout plain", want: LogEntry{Time: ts, Stream: "stdout", Content: []byte("plain")}},
		{line: "garbage", wantErr: true},
		{line: "2026-01-02T03:04:05Z stdin F x", wantErr: true},
		{line: "notatime stdout F x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseLogLine([]byte(tt.line))
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err = %v, want error %v", tt.line, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if !got.Time.Equal(tt.want.Time) || got.Stream != tt.want.Stream || got.Partial != tt.want.Partial || !bytes.Equal(got.Content, tt.want.Content) {
			t.Errorf("%q: got %+v, want %+v", tt.line, got, tt.want)
		}
	}
}

func TestTailOffset(t *testing.T) {
	tests := []struct {
		data string
		n    int64
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc\n", 3, "a\nb\nc\n"},
		{"a\nb\nc\n", 10, "a\nb\nc\n"},
		{"a\nb\nc\n", 1, "c\n"},
		{"a\nb\nc\n", 0, ""},
		{"a\nb\nc", 1, "c"},
		{"a\nb\nc", 2, "b\nc"},
		{"", 3, ""},
		{"a\nb\n", -1, "a\nb\n"},
		{strings.Repeat("x", 40000) + "\n" + strings.Repeat("y", 40000) + "\n", 1, strings.Repeat("y", 40000) + "\n"},
	}
	for _, tt := range tests {
		r := strings.NewReader(tt.data)
		off, err := tailOffset(r, int64(len(tt.data)), tt.n)
		if err != nil {
			t.Fatal(err)
		}
		if got := tt.data[off:]; got != tt.want {
			t.Errorf("tail %d of %.20q = %.20q, want %.20q", tt.n, tt.data, got, tt.want)
		}
	}
}

// logFile writes lines at the given times to a CRI log file.
func logFile(t *testing.T, dir string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, "0.log")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCopyLog(t *testing.T) {
	dir := t.TempDir()
	path := logFile(t, dir,
		"2026-01-02T03:00:00Z stdout F one",
		"2026-01-02T03:00:01Z stderr F two",
		"2026-01-02T03:00:02Z stdout P thr",
		"2026-01-02T03:00:02.5Z stdout F ee",
		"corrupt line",
		"2026-01-02T03:00:03Z stdout F four",
	)
	since := time.Date(2026, 1, 2, 3, 0, 1, 0, time.UTC)
	tests := []struct {
		name string
		opts LogOptions
		want string
	}{
		{"all", LogOptions{TailLines: -1}, "one\ntwo\nthree\nfour\n"},
		{"tail 2", LogOptions{TailLines: 2}, "four\n"},
		{"tail 3", LogOptions{TailLines: 3}, "ee\nfour\n"},
		{"since", LogOptions{TailLines: -1, Since: since}, "two\nthree\nfour\n"},
		{"timestamps", LogOptions{TailLines: 1, Timestamps: true}, "2026-01-02T03:00:03Z four\n"},
		{"limit", LogOptions{TailLines: -1, LimitBytes: 6}, "one\ntw"},
		{"limit exact", LogOptions{TailLines: -1, LimitBytes: 4}, "one\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		src := logSource{path: path, alive: func(context.Context) bool { return false }, poll: time.Millisecond}
		if err := copyLog(context.Background(), &out, src, tt.opts); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if out.String() != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, out.String(), tt.want)
		}
	}
}

func TestCopyLogMissingFile(t *testing.T) {
	var out bytes.Buffer
	src := logSource{path: filepath.Join(t.TempDir(), "none.log"), alive: func(context.Context) bool { return false }, poll: time.Millisecond}
	if err := copyLog(context.Background(), &out, src, LogOptions{TailLines: -1, Follow: true}); err != nil || out.Len() != 0 {
		t.Fatalf("missing file: %q, %v", out.String(), err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a poller.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCopyLogFollow(t *testing.T) {
	dir := t.TempDir()
	path := logFile(t, dir, "2026-01-02T03:00:00Z stdout F one")
	var alive atomic.Bool
	alive.Store(true)
	out := newSyncBuffer()
	done := make(chan error, 1)
	src := logSource{path: path, alive: func(context.Context) bool { return alive.Load() }, poll: 2 * time.Millisecond}
	go func() { done <- copyLog(context.Background(), out, src, LogOptions{TailLines: -1, Follow: true}) }()
	waitFor(t, "first line", func() bool { return out.String() == "one\n" })

	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A line written in two pieces comes out once whole.
	if _, err := f.WriteString("2026-01-02T03:00:01Z stdout F t"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if got := out.String(); got != "one\n" {
		t.Errorf("half a line came out: %q", got)
	}
	if _, err := f.WriteString("wo\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	waitFor(t, "second line", func() bool { return out.String() == "one\ntwo\n" })

	// Rotation: the file is renamed and a new one takes its place.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	logFile(t, dir, "2026-01-02T03:00:02Z stdout F three")
	waitFor(t, "line of the new file", func() bool { return out.String() == "one\ntwo\nthree\n" })

	alive.Store(false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not end after the container stopped")
	}
}

func TestCopyLogFollowEndsWithContext(t *testing.T) {
	path := logFile(t, t.TempDir(), "2026-01-02T03:00:00Z stdout F one")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	src := logSource{path: path, alive: func(context.Context) bool { return true }, poll: time.Millisecond}
	go func() { done <- copyLog(ctx, &bytes.Buffer{}, src, LogOptions{TailLines: -1, Follow: true}) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not end with its context")
	}
}

func TestParseLogOptions(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		query   string
		want    LogOptions
		wantErr bool
	}{
		{query: "", want: LogOptions{TailLines: -1}},
		{query: "follow=true&timestamps=1&tailLines=5&limitBytes=10", want: LogOptions{TailLines: 5, LimitBytes: 10, Follow: true, Timestamps: true}},
		{query: "sinceSeconds=60", want: LogOptions{TailLines: -1, Since: now.Add(-time.Minute)}},
		{query: "sinceTime=2026-01-01T00:00:00Z", want: LogOptions{TailLines: -1, Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{query: "follow=false", want: LogOptions{TailLines: -1}},
		{query: "tailLines=-1", wantErr: true},
		{query: "limitBytes=0", wantErr: true},
		{query: "sinceSeconds=0", wantErr: true},
		{query: "sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z", wantErr: true},
		{query: "sinceTime=yesterday", wantErr: true},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		got, err := parseLogOptions(q, now)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err = %v, want error %v", tt.query, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && (got.TailLines != tt.want.TailLines || got.LimitBytes != tt.want.LimitBytes || got.Follow != tt.want.Follow ||
			got.Timestamps != tt.want.Timestamps || !got.Since.Equal(tt.want.Since)) {
			t.Errorf("%q: got %+v, want %+v", tt.query, got, tt.want)
		}
	}
}
