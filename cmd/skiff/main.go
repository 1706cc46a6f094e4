// Command skiff is the single Skiff binary: server, agent, up, image, sim
// and bench are its subcommands.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/skiffkube/skiff/internal/cli"
)

func main() {
	if err := cli.NewRoot(os.Stdout, os.Stderr).ExecuteContext(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "skiff: %v\n", err)
		os.Exit(1)
	}
}
