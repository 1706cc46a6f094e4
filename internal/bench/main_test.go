package bench_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/skiffkube/skiff/internal/cli"
)

// childEnv makes the test binary act as the skiff binary, so that the bench
// command can start it as `<test binary> server ...`.
const childEnv = "SKIFF_BENCH_TEST_ACT_AS_SKIFF"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		root := cli.NewRoot(os.Stdout, os.Stderr)
		root.SetArgs(os.Args[1:])
		if err := root.ExecuteContext(context.Background()); err != nil {
			fmt.Fprintf(os.Stderr, "skiff: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
