// Package servertest starts a whole Skiff control plane (embedded etcd, API
// server, controllers, scheduler) on loopback for a test.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/skiffkube/skiff/internal/server"
)

// Start runs a control plane in t.TempDir() on a free loopback port and
// stops it when the test ends, failing the test if it stops with an
// error. Options adjust the configuration before start.
func Start(t testing.TB, options ...func(*server.Config)) *server.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := server.Config{DataDir: t.TempDir(), BindAddress: "127.0.0.1", SecurePort: port,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range options {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("starting the server: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := srv.Wait(); err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	return srv
}
