package etcd_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/storage/etcd"
	"github.com/skiffkube/skiff/internal/storage/etcd/etcdtest"
)

func TestEmbeddedRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	first := etcdtest.StartEmbeddedIn(t, dir)
	s1 := etcdtest.NewStore(t, first.Endpoints())
	rev, err := s1.Create(ctx, "/restart/a", []byte("kept"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := s1.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("stop etcd: %v", err)
	}

	second := etcdtest.StartEmbeddedIn(t, dir)
	s2 := etcdtest.NewStore(t, second.Endpoints())
	kv, err := s2.Get(ctx, "/restart/a")
	if err != nil {
		t.Fatalf("Get after restart: %v", err)
	}
	if string(kv.Value) != "kept" || kv.ModRevision != rev {
		t.Fatalf("after restart: %q at %d, want %q at %d", kv.Value, kv.ModRevision, "kept", rev)
	}
	cur, err := s2.CurrentRevision(ctx)
	if err != nil || cur < rev {
		t.Fatalf("CurrentRevision after restart = %d, %v; want >= %d", cur, err, rev)
	}
}

func TestEmbeddedExplicitURLs(t *testing.T) {
	clientURL, peerURL := freeURL(t), freeURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{
		DataDir: t.TempDir(), ListenClientURL: clientURL, ListenPeerURL: peerURL, UnsafeNoFsync: true,
	})
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	if got := e.Endpoints(); len(got) != 1 || got[0] != clientURL {
		t.Fatalf("Endpoints() = %v, want [%s]", got, clientURL)
	}
	s := etcdtest.NewStore(t, e.Endpoints())
	if _, err := s.Create(ctx, "/explicit", []byte("x")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestStartEmbeddedErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{}); err == nil {
		t.Fatal("StartEmbedded without a data dir succeeded")
	}
	if _, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: t.TempDir(), LogLevel: "loud"}); err == nil {
		t.Fatal("StartEmbedded with a bad log level succeeded")
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer busy.Close()
	_, err = etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{
		DataDir: t.TempDir(), ListenClientURL: "http://" + busy.Addr().String(),
	})
	if err == nil {
		t.Fatal("StartEmbedded on a busy client port succeeded")
	}
}

func TestNewClientNeedsEndpoints(t *testing.T) {
	if _, err := etcd.NewClient(nil, nil); err == nil {
		t.Fatal("NewClient without endpoints succeeded")
	}
}

// freeURL returns http://127.0.0.1:<free port>.
func freeURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()
	return fmt.Sprintf("http://%s", l.Addr())
}
