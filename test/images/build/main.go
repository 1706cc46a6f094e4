// Command build writes Skiff's own images (pause, busybox, skiff-test) as
// OCI archives into a directory, for `make images` and CI:
//
//	go run ./test/images/build -out _output/images
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/skiffkube/skiff/internal/image"
)

func main() {
	out := flag.String("out", "_output/images", "directory to write <name>.tar into")
	busybox := flag.String("busybox", "/bin/busybox", "statically linked busybox binary")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	paths, err := image.Build(ctx, *out, image.BuildOptions{Busybox: *busybox})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, p := range paths {
		fmt.Println(p)
	}
}
