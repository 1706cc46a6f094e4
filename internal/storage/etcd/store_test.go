package etcd_test

import (
	"sync"
	"testing"

	"github.com/skiffkube/skiff/internal/storage"
	"github.com/skiffkube/skiff/internal/storage/etcd"
	"github.com/skiffkube/skiff/internal/storage/etcd/etcdtest"
	"github.com/skiffkube/skiff/internal/storage/storagetest"
)

// sharedStore returns a newStore function for storagetest.Run that starts
// one store (with start) for all the subtests of t.
func sharedStore(t *testing.T, start func(testing.TB) *etcd.Store) func(*testing.T) storage.Store {
	var once sync.Once
	var s *etcd.Store
	return func(*testing.T) storage.Store {
		once.Do(func() { s = start(t) })
		return s
	}
}

func TestContractEmbedded(t *testing.T) {
	storagetest.Run(t, sharedStore(t, etcdtest.New))
}

func TestContractExternal(t *testing.T) {
	if etcdtest.EtcdBinary() == "" {
		t.Skip("no etcd binary installed (apt-get install etcd-server, or set ETCD_BIN): skipping the external etcd test")
	}
	storagetest.Run(t, sharedStore(t, etcdtest.NewExternal))
}

func TestContractEmbeddedInProcess(t *testing.T) {
	storagetest.Run(t, sharedStore(t, func(tb testing.TB) *etcd.Store {
		e := etcdtest.StartEmbedded(tb)
		c := e.InProcessClient()
		tb.Cleanup(func() { c.Close() }) // runs before the member's cleanup
		return etcd.New(c)
	}))
}
