package storagetest

import (
	"testing"

	"github.com/skiffkube/skiff/internal/storage"
)

func testListSorted(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	var last int64
	for _, name := range []string{"c", "a", "b/x", "b"} {
		last = mustCreate(t, s, prefix+name, "v-"+name)
	}
	// Keys that share the prefix's characters but are not under it.
	mustCreate(t, s, prefix[:len(prefix)-1], "parent")
	mustCreate(t, s, prefix[:len(prefix)-1]+"0", "sibling")

	res, err := s.List(ctx, prefix, storage.ListOptions{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	wantKeys(t, "List", res, prefix, []string{"a", "b", "b/x", "c"})
	for _, kv := range res.Items {
		if string(kv.Value) != "v-"+kv.Key[len(prefix):] || kv.ModRevision <= 0 || kv.CreateRevision != kv.ModRevision {
			t.Fatalf("List item %+v has the wrong value or revisions", kv)
		}
	}
	if res.Revision < last {
		t.Fatalf("List revision %d, want >= %d", res.Revision, last)
	}
	if res.More || res.Remaining != 0 {
		t.Fatalf("List More=%v Remaining=%d, want false 0", res.More, res.Remaining)
	}

	empty, err := s.List(ctx, prefix+"none/", storage.ListOptions{})
	if err != nil {
		t.Fatalf("List of an empty prefix: %v", err)
	}
	if len(empty.Items) != 0 || empty.More || empty.Revision < last {
		t.Fatalf("List of an empty prefix = %+v", empty)
	}
}

func testListPagination(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	names := []string{"k0", "k1", "k2", "k3", "k4"}
	for _, name := range names {
		mustCreate(t, s, prefix+name, name)
	}
	pages := []struct {
		keys      []string
		more      bool
		remaining int64
	}{
		{[]string{"k0", "k1"}, true, 3},
		{[]string{"k2", "k3"}, true, 1},
		{[]string{"k4"}, false, 0},
	}
	opts := storage.ListOptions{Limit: 2}
	for i, want := range pages {
		res, err := s.List(ctx, prefix, opts)
		if err != nil {
			t.Fatalf("List page %d: %v", i, err)
		}
		wantKeys(t, "List page", res, prefix, want.keys)
		if res.More != want.more || res.Remaining != want.remaining {
			t.Fatalf("page %d: More=%v Remaining=%d, want %v %d", i, res.More, res.Remaining, want.more, want.remaining)
		}
		if i > 0 && res.Revision != opts.Revision {
			t.Fatalf("page %d read at revision %d, want %d", i, res.Revision, opts.Revision)
		}
		// Writes between pages must not show in later pages.
		mustCreate(t, s, prefix+"k"+string(rune('0'+i))+"-late", "late")
		opts.Revision = res.Revision
		opts.StartKey = res.Items[len(res.Items)-1].Key + "\x00"
	}
}

func testListAtRevision(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	r1 := mustCreate(t, s, prefix+"a", "v1")
	r2 := mustUpdate(t, s, prefix+"a", "v2", r1)
	r3 := mustCreate(t, s, prefix+"b", "b1")
	r4 := mustDelete(t, s, prefix+"a")

	cases := []struct {
		rev    int64
		keys   []string
		values []string
	}{
		{r1, []string{"a"}, []string{"v1"}},
		{r2, []string{"a"}, []string{"v2"}},
		{r3, []string{"a", "b"}, []string{"v2", "b1"}},
		{r4, []string{"b"}, []string{"b1"}},
		{0, []string{"b"}, []string{"b1"}},
	}
	for _, c := range cases {
		res, err := s.List(ctx, prefix, storage.ListOptions{Revision: c.rev})
		if err != nil {
			t.Fatalf("List at %d: %v", c.rev, err)
		}
		wantKeys(t, "List at revision", res, prefix, c.keys)
		for i, kv := range res.Items {
			if string(kv.Value) != c.values[i] {
				t.Fatalf("List at %d: %q = %q, want %q", c.rev, kv.Key, kv.Value, c.values[i])
			}
		}
		if c.rev != 0 && res.Revision != c.rev {
			t.Fatalf("List at %d reports revision %d", c.rev, res.Revision)
		}
		if c.rev == 0 && res.Revision < r4 {
			t.Fatalf("List at latest reports revision %d, want >= %d", res.Revision, r4)
		}
	}
}

func testListBadRevision(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	r1 := mustCreate(t, s, prefix+"a", "v1")
	r2 := mustUpdate(t, s, prefix+"a", "v2", r1)
	cur, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatalf("CurrentRevision: %v", err)
	}
	_, err = s.List(ctx, prefix, storage.ListOptions{Revision: cur + 1000})
	wantErr(t, "List at a future revision", err, storage.ErrFutureRevision)

	if err := s.Compact(ctx, r2); err != nil {
		t.Fatalf("Compact(%d): %v", r2, err)
	}
	_, err = s.List(ctx, prefix, storage.ListOptions{Revision: r1})
	wantErr(t, "List at a compacted revision", err, storage.ErrCompacted)
	res, err := s.List(ctx, prefix, storage.ListOptions{Revision: r2})
	if err != nil {
		t.Fatalf("List at the compaction revision: %v", err)
	}
	wantKeys(t, "List at the compaction revision", res, prefix, []string{"a"})
	err = s.Compact(ctx, r1)
	wantErr(t, "Compact at an already compacted revision", err, storage.ErrCompacted)
}

func testCount(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	for _, name := range []string{"a", "b", "c/d"} {
		mustCreate(t, s, prefix+name, name)
	}
	mustCreate(t, s, prefix[:len(prefix)-1]+"0", "sibling")
	mustDelete(t, s, prefix+"b")
	cases := map[string]int64{prefix: 2, prefix + "c/": 1, prefix + "none/": 0}
	for p, want := range cases {
		n, err := s.Count(ctx, p)
		if err != nil {
			t.Fatalf("Count(%q): %v", p, err)
		}
		if n != want {
			t.Fatalf("Count(%q) = %d, want %d", p, n, want)
		}
	}
}

// wantKeys fails unless res holds exactly prefix+names, in that order.
func wantKeys(t *testing.T, what string, res storage.ListResult, prefix string, names []string) {
	t.Helper()
	got := make([]string, 0, len(res.Items))
	for _, kv := range res.Items {
		got = append(got, kv.Key)
	}
	ok := len(got) == len(names)
	for i := 0; ok && i < len(names); i++ {
		ok = got[i] == prefix+names[i]
	}
	if !ok {
		t.Fatalf("%s: keys %q, want %q under %q", what, got, names, prefix)
	}
}
