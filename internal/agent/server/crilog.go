package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// LogEntry is one line of a CRI log file:
// "<RFC3339Nano time> <stdout|stderr> <F|P> <content>".
type LogEntry struct {
	Time   time.Time
	Stream string
	// Partial is true for a piece of a longer line (tag P): the content
	// continues in the next entry and has no newline of its own.
	Partial bool
	Content []byte
}

// ParseLogLine parses one line of a CRI log file, without its newline.
// The content aliases line.
func ParseLogLine(line []byte) (LogEntry, error) {
	var e LogEntry
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return e, fmt.Errorf("log line %q: no timestamp", truncate(line))
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return e, fmt.Errorf("log line %q: timestamp: %w", truncate(line), err)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (string(stream) != "stdout" && string(stream) != "stderr") {
		return e, fmt.Errorf("log line %q: no stream", truncate(line))
	}
	// Old runtimes wrote no tag: then the rest is the whole content.
	tag, content, ok := bytes.Cut(rest, []byte{' '})
	switch {
	case ok && string(tag) == "P":
		e.Partial = true
	case ok && (string(tag) == "F" || bytes.HasPrefix(tag, []byte("F:"))):
	default:
		content = rest
	}
	e.Time, e.Stream, e.Content = t, string(stream), content
	return e, nil
}

func truncate(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

// LogOptions select and format what a log request returns.
type LogOptions struct {
	// TailLines keeps only the last lines of the file; negative means all.
	TailLines int64
	// Since skips entries written before it; zero means no limit.
	Since time.Time
	// Timestamps prefixes each entry with its RFC3339Nano time.
	Timestamps bool
	// LimitBytes stops after that many bytes; zero or negative: no limit.
	LimitBytes int64
	// Follow keeps reading as the container writes.
	Follow bool
}

// errLimitReached ends a copy when LimitBytes are written.
var errLimitReached = errors.New("log byte limit reached")

// logWriter formats entries for the client and enforces the byte limit.
type logWriter struct {
	w         io.Writer
	opts      LogOptions
	remaining int64 // < 0: unlimited
	buf       []byte
}

func newLogWriter(w io.Writer, opts LogOptions) *logWriter {
	lw := &logWriter{w: w, opts: opts, remaining: -1}
	if opts.LimitBytes > 0 {
		lw.remaining = opts.LimitBytes
	}
	return lw
}

// write writes one entry if it passes Since; it returns errLimitReached
// once LimitBytes are out.
func (lw *logWriter) write(e LogEntry) error {
	if !lw.opts.Since.IsZero() && e.Time.Before(lw.opts.Since) {
		return nil
	}
	lw.buf = lw.buf[:0]
	if lw.opts.Timestamps {
		lw.buf = e.Time.AppendFormat(lw.buf, time.RFC3339Nano)
		lw.buf = append(lw.buf, ' ')
	}
	lw.buf = append(lw.buf, e.Content...)
	if !e.Partial {
		lw.buf = append(lw.buf, '\n')
	}
	out := lw.buf
	limited := false
	if lw.remaining >= 0 && int64(len(out)) >= lw.remaining {
		out, limited = out[:lw.remaining], true
	}
	n, err := lw.w.Write(out)
	if lw.remaining >= 0 {
		lw.remaining -= int64(n)
	}
	switch {
	case err != nil:
		return err
	case limited:
		return errLimitReached
	}
	return nil
}

// tailOffset is the offset of the start of the last n lines of f (0 when
// the file has no more than n lines, size when n is 0). A final line
// without a newline counts as a line; n < 0 means the whole file.
func tailOffset(f io.ReaderAt, size, n int64) (int64, error) {
	switch {
	case n < 0:
		return 0, nil
	case n == 0:
		return size, nil
	}
	const block = 32 * 1024
	buf := make([]byte, block)
	newlines := int64(0)
	for end := size; end > 0; {
		start := max(end-block, 0)
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("reading the log backwards: %w", err)
		}
		for i := len(chunk) - 1; i >= 0; i-- {
			// The file's last newline ends the last line; it starts none.
			if chunk[i] != '\n' || start+int64(i) == size-1 {
				continue
			}
			if newlines++; newlines == n {
				return start + int64(i) + 1, nil
			}
		}
		end = start
	}
	return 0, nil
}
