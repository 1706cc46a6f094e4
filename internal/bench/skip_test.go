package bench_test

import (
	"os"
	"os/exec"
	"testing"
)

// skipUnlessRootWith skips the test unless it runs as root with the tools.
func skipUnlessRootWith(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
}
