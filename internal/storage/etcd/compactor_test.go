package etcd_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/storage"
	"github.com/skiffkube/skiff/internal/storage/etcd"
	"github.com/skiffkube/skiff/internal/storage/etcd/etcdtest"
)

func TestCompactOnce(t *testing.T) {
	ctx := context.Background()
	s := etcdtest.New(t)
	var revs []int64
	for i := 0; i < 10; i++ {
		rev, err := s.Create(ctx, "/compact/"+string(rune('a'+i)), []byte("x"))
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		revs = append(revs, rev)
	}
	cur := revs[len(revs)-1]

	got, err := etcd.CompactOnce(ctx, s, 3, 0)
	if err != nil || got != cur-3 {
		t.Fatalf("CompactOnce = %d, %v; want %d", got, err, cur-3)
	}
	if _, err := s.List(ctx, "/compact/", storage.ListOptions{Revision: cur - 4}); !errors.Is(err, storage.ErrCompacted) {
		t.Fatalf("List below the compaction: %v, want ErrCompacted", err)
	}
	if _, err := s.List(ctx, "/compact/", storage.ListOptions{Revision: cur - 3}); err != nil {
		t.Fatalf("List at the kept history: %v", err)
	}
	// Nothing new to compact: the previous revision stays.
	if again, err := etcd.CompactOnce(ctx, s, 3, got); err != nil || again != got {
		t.Fatalf("second CompactOnce = %d, %v; want %d", again, err, got)
	}
	// Keeping more history than exists does nothing.
	if none, err := etcd.CompactOnce(ctx, s, cur+10, 0); err != nil || none != 0 {
		t.Fatalf("CompactOnce with a large keep = %d, %v; want 0", none, err)
	}
	// Another server compacted further already: not an error.
	if other, err := etcd.CompactOnce(ctx, s, 5, 0); err != nil || other != cur-5 {
		t.Fatalf("CompactOnce behind an earlier compaction = %d, %v; want %d", other, err, cur-5)
	}
}

func TestRunCompactor(t *testing.T) {
	s := etcdtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := s.Create(ctx, "/compactor/a", []byte("1"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := s.Update(ctx, "/compactor/a", []byte("2"), first); err != nil {
		t.Fatalf("Update: %v", err)
	}

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		etcd.RunCompactor(runCtx, s, 10*time.Millisecond, 0)
	}()
	// Poll until the compactor has run (bounded by ctx).
	for {
		_, err := s.List(ctx, "/compactor/", storage.ListOptions{Revision: first})
		if errors.Is(err, storage.ErrCompacted) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("revision %d never compacted: %v", first, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	wg.Wait() // RunCompactor returns once its context ends
}
