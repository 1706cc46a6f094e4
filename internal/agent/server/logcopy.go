package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// logSource is the container whose log is read.
type logSource struct {
	path string
	// alive reports whether the container may still write (follow ends
	// once it cannot and the file holds nothing more).
	alive func(ctx context.Context) bool
	// poll is how often a followed file is checked for growth.
	poll time.Duration
	// flush pushes written output to the client (may be nil).
	flush func()
}

// copyLog writes the log at src.path to w as opts say. Following, it
// keeps reading while the container runs, and reopens the path from its
// start when the file is rotated (replaced or truncated).
func copyLog(ctx context.Context, w io.Writer, src logSource, opts LogOptions) error {
	lw := newLogWriter(w, opts)
	f, err := openLog(ctx, src, opts.Follow)
	if err != nil || f == nil {
		return err
	}
	defer func() { f.Close() }()
	if opts.TailLines >= 0 {
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("log file: %w", err)
		}
		off, err := tailOffset(f, fi.Size(), opts.TailLines)
		if err != nil {
			return err
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return fmt.Errorf("log file: %w", err)
		}
	}
	r := &lineReader{br: bufio.NewReaderSize(f, 64*1024)}
	for {
		if err := r.drain(lw); err != nil {
			if errors.Is(err, errLimitReached) {
				return nil
			}
			return err
		}
		if !opts.Follow {
			return nil
		}
		if src.flush != nil {
			src.flush()
		}
		next, done, err := waitForMore(ctx, src, f, r.offset)
		switch {
		case err != nil || done:
			// A last drain: the container may have written before exiting.
			if derr := r.drain(lw); derr != nil && !errors.Is(derr, errLimitReached) && err == nil {
				err = derr
			}
			return err
		case next != nil:
			// Rotated: finish the old file, then start on the new one.
			if err := r.drain(lw); err != nil {
				next.Close()
				if errors.Is(err, errLimitReached) {
					return nil
				}
				return err
			}
			f.Close()
			f = next
			r = &lineReader{br: bufio.NewReaderSize(f, 64*1024)}
		}
	}
}

// openLog opens the log file. A missing file is an empty log, except when
// following a live container, whose file may not exist yet.
func openLog(ctx context.Context, src logSource, follow bool) (*os.File, error) {
	for {
		f, err := os.Open(src.path)
		switch {
		case err == nil:
			return f, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("opening the log: %w", err)
		case !follow || !src.alive(ctx):
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(src.poll):
		}
	}
}

// waitForMore blocks until the file grows (nil, false), is rotated (the
// new file, false), the container can no longer write (nil, true) or ctx
// ends (nil, true).
func waitForMore(ctx context.Context, src logSource, f *os.File, offset int64) (*os.File, bool, error) {
	t := time.NewTicker(src.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, true, nil
		case <-t.C:
		}
		cur, err := f.Stat()
		if err != nil {
			return nil, true, fmt.Errorf("log file: %w", err)
		}
		if cur.Size() > offset {
			return nil, false, nil
		}
		if fi, err := os.Stat(src.path); err == nil && (!os.SameFile(fi, cur) || cur.Size() < offset) {
			next, err := os.Open(src.path)
			if err == nil {
				return next, false, nil
			}
		}
		if !src.alive(ctx) {
			return nil, true, nil
		}
	}
}

// lineReader reads whole CRI log lines and remembers how far it got.
type lineReader struct {
	br      *bufio.Reader
	pending []byte // an incomplete last line, waiting for its newline
	offset  int64  // bytes consumed, pending included
}

// drain writes every complete line available now.
func (r *lineReader) drain(lw *logWriter) error {
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.offset += int64(len(chunk))
		if errors.Is(err, bufio.ErrBufferFull) || (errors.Is(err, io.EOF) && len(chunk) > 0) {
			r.pending = append(r.pending, chunk...)
			if errors.Is(err, io.EOF) {
				return nil
			}
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading the log: %w", err)
		}
		line := chunk[:len(chunk)-1]
		if len(r.pending) > 0 {
			r.pending = append(r.pending, line...)
			line, r.pending = r.pending, r.pending[:0]
		}
		e, perr := ParseLogLine(line)
		if perr != nil {
			continue // a corrupt line is skipped, as upstream does
		}
		if err := lw.write(e); err != nil {
			return err
		}
	}
}
