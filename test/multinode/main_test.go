package multinode

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// env is what every test shares: the binary, kubectl, the images, and
// why the tests skip ("" when they run).
type env struct {
	skip      string
	binary    string
	kubectl   string
	imagesDir string
	tmp       string
}

// suite is set by TestMain.
var suite env

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	flag.Parse()
	if suite.skip = gate(); suite.skip != "" {
		fmt.Fprintln(os.Stderr, "multinode: skipping:", suite.skip)
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "skmn-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	suite.tmp = tmp
	if suite.binary = os.Getenv("SKIFF_BINARY"); suite.binary == "" {
		suite.binary = filepath.Join(tmp, "skiff")
		if err := run(moduleRoot(), "go", "build", "-o", suite.binary, "./cmd/skiff"); err != nil {
			fmt.Fprintln(os.Stderr, "building skiff:", err)
			return 1
		}
	}
	suite.imagesDir = filepath.Join(tmp, "images")
	if err := run(moduleRoot(), "go", "run", "./test/images/build", "-out", suite.imagesDir); err != nil {
		fmt.Fprintln(os.Stderr, "building the test images:", err)
		return 1
	}
	return m.Run()
}

// gate returns why this machine cannot run the harness, or "".
func gate() string {
	if os.Getenv("SKIFF_MULTINODE") != "1" {
		return "set SKIFF_MULTINODE=1 to run the multi-node tests (they need root, containerd, runc, CNI plugins, ip, nsenter, kubectl)"
	}
	if testing.Short() {
		return "-short"
	}
	if os.Geteuid() != 0 {
		return "the multi-node tests need root"
	}
	for _, bin := range []string{"containerd", "runc", "ip", "nsenter", "kubectl"} {
		if _, err := exec.LookPath(bin); err != nil {
			return bin + " is not installed"
		}
	}
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		return "the CNI plugins are not installed (/usr/lib/cni)"
	}
	var err error
	if suite.kubectl, err = exec.LookPath("kubectl"); err != nil {
		return "kubectl is not installed"
	}
	return ""
}

func needHarness(t *testing.T) {
	t.Helper()
	if suite.skip != "" {
		t.Skip(suite.skip)
	}
}

// moduleRoot is the directory holding go.mod, two levels above this one.
func moduleRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

// run runs a command in dir and returns its output in the error.
func run(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", name, args, err, out)
	}
	return nil
}
