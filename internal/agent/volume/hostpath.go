package volume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// checkHostPath applies a hostPath volume's type: it creates what the
// *OrCreate types ask for and checks the kind of what exists.
func checkHostPath(p string, t *corev1.HostPathType) error {
	typ := corev1.HostPathUnset
	if t != nil {
		typ = *t
	}
	info, err := os.Stat(p)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return fmt.Errorf("hostPath %s: %w", p, err)
	}
	switch typ {
	case corev1.HostPathUnset:
		return nil
	case corev1.HostPathDirectoryOrCreate:
		if missing {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return fmt.Errorf("hostPath %s: %w", p, err)
			}
			return nil
		}
		return want(p, info.IsDir(), "a directory")
	case corev1.HostPathFileOrCreate:
		if missing {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return fmt.Errorf("hostPath %s: %w", p, err)
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_RDONLY, 0o644)
			if err != nil {
				return fmt.Errorf("hostPath %s: %w", p, err)
			}
			return f.Close()
		}
		return want(p, info.Mode().IsRegular(), "a file")
	}
	if missing {
		return fmt.Errorf("hostPath type check failed: %s does not exist", p)
	}
	switch typ {
	case corev1.HostPathDirectory:
		return want(p, info.IsDir(), "a directory")
	case corev1.HostPathFile:
		return want(p, info.Mode().IsRegular(), "a file")
	case corev1.HostPathSocket:
		return want(p, info.Mode()&fs.ModeSocket != 0, "a socket file")
	case corev1.HostPathCharDev:
		return want(p, info.Mode()&fs.ModeCharDevice != 0, "a character device")
	case corev1.HostPathBlockDev:
		return want(p, info.Mode()&fs.ModeDevice != 0 && info.Mode()&fs.ModeCharDevice == 0, "a block device")
	}
	return fmt.Errorf("hostPath %s: unknown type %q", p, typ)
}

func want(p string, ok bool, what string) error {
	if ok {
		return nil
	}
	return fmt.Errorf("hostPath type check failed: %s is not %s", p, what)
}
