package etcdtest

import (
	"context"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/storage/etcd"
)

// startTimeout bounds how long a test waits for etcd to come up.
const startTimeout = 30 * time.Second

// New starts an embedded etcd in t.TempDir() and returns a Store on it. The
// store and the server are closed when the test ends.
func New(t testing.TB) *etcd.Store {
	t.Helper()
	return NewStore(t, StartEmbedded(t).Endpoints())
}

// StartEmbedded starts an embedded etcd (without fsync, for speed) in
// t.TempDir() and stops it when the test ends.
func StartEmbedded(t testing.TB) *etcd.Embedded {
	t.Helper()
	return StartEmbeddedIn(t, t.TempDir())
}

// StartEmbeddedIn starts an embedded etcd on dataDir (to restart on a data
// dir a previous one used) and stops it when the test ends; calling Close
// earlier is fine.
func StartEmbeddedIn(t testing.TB, dataDir string) *etcd.Embedded {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: dataDir, UnsafeNoFsync: true})
	if err != nil {
		t.Fatalf("start embedded etcd: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("stop embedded etcd: %v", err)
		}
	})
	return e
}

// NewStore connects a Store to endpoints and closes it when the test ends.
func NewStore(t testing.TB, endpoints []string) *etcd.Store {
	t.Helper()
	c, err := etcd.NewClient(endpoints, nil)
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	s := etcd.New(c)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close etcd store: %v", err)
		}
	})
	return s
}
