package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// RotateOptions bound a log file; zero values mean no limit.
type RotateOptions struct {
	// MaxSizeMB rotates the file before it would grow past this size.
	MaxSizeMB int
	// MaxBackups is how many rotated files are kept.
	MaxBackups int
	// MaxAgeDays removes rotated files older than this.
	MaxAgeDays int
	// maxBytes overrides MaxSizeMB (tests).
	maxBytes int64
}

// backupTimeFormat names rotated files: audit-2026-11-23T15-04-05.000.log.
const backupTimeFormat = "2006-01-02T15-04-05.000"

// RotatingFile is a log file that rotates by size. It is not safe for
// concurrent use: the Backend's single writer goroutine owns it.
type RotatingFile struct {
	path string
	opts RotateOptions
	now  func() time.Time
	f    *os.File
	size int64
}

// OpenRotatingFile opens (appending to) path, creating its directory.
func OpenRotatingFile(path string, opts RotateOptions, now func() time.Time) (*RotatingFile, error) {
	if now == nil {
		now = time.Now
	}
	if opts.maxBytes == 0 {
		opts.maxBytes = int64(opts.MaxSizeMB) << 20
	}
	r := &RotatingFile{path: path, opts: opts, now: now}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit log directory: %w", err)
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening audit log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("opening audit log: %w", err)
	}
	r.f, r.size = f, fi.Size()
	return nil
}

// Write appends p, rotating first when p would push the file past the
// size limit.
func (r *RotatingFile) Write(p []byte) (int, error) {
	if r.opts.maxBytes > 0 && r.size > 0 && r.size+int64(len(p)) > r.opts.maxBytes {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

// Close closes the current file.
func (r *RotatingFile) Close() error { return r.f.Close() }

// rotate renames the current file to a timestamped backup, opens a new
// one and prunes old backups.
func (r *RotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("rotating audit log: %w", err)
	}
	ext := filepath.Ext(r.path)
	base := strings.TrimSuffix(r.path, ext)
	backup := base + "-" + r.now().UTC().Format(backupTimeFormat) + ext
	if err := os.Rename(r.path, backup); err != nil {
		return fmt.Errorf("rotating audit log: %w", err)
	}
	if err := r.open(); err != nil {
		return err
	}
	return r.prune()
}

// prune removes backups beyond MaxBackups (oldest first) and older than
// MaxAgeDays; the timestamp in the name orders them.
func (r *RotatingFile) prune() error {
	backups, err := r.backups()
	if err != nil {
		return err
	}
	var remove []string
	if n := r.opts.MaxBackups; n > 0 && len(backups) > n {
		for _, b := range backups[:len(backups)-n] {
			remove = append(remove, b.path)
		}
		backups = backups[len(backups)-n:]
	}
	if r.opts.MaxAgeDays > 0 {
		cutoff := r.now().Add(-time.Duration(r.opts.MaxAgeDays) * 24 * time.Hour)
		for _, b := range backups {
			if b.at.Before(cutoff) {
				remove = append(remove, b.path)
			}
		}
	}
	for _, p := range remove {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("removing old audit log: %w", err)
		}
	}
	return nil
}

type backup struct {
	path string
	at   time.Time
}

// backups lists the rotated files of r, oldest first.
func (r *RotatingFile) backups() ([]backup, error) {
	ext := filepath.Ext(r.path)
	prefix := filepath.Base(strings.TrimSuffix(r.path, ext)) + "-"
	entries, err := os.ReadDir(filepath.Dir(r.path))
	if err != nil {
		return nil, fmt.Errorf("listing audit logs: %w", err)
	}
	var out []backup
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ext) {
			continue
		}
		at, err := time.Parse(backupTimeFormat, strings.TrimSuffix(strings.TrimPrefix(name, prefix), ext))
		if err != nil {
			continue
		}
		out = append(out, backup{path: filepath.Join(filepath.Dir(r.path), name), at: at})
	}
	slices.SortFunc(out, func(a, b backup) int { return a.at.Compare(b.at) })
	return out, nil
}
