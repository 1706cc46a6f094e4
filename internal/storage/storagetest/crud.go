package storagetest

import (
	"testing"

	"github.com/skiffkube/skiff/internal/storage"
)

func testCreateAndExists(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	key := prefix + "a"
	rev := mustCreate(t, s, key, "one")
	kv, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get after Create: %v", err)
	}
	wantKV(t, "Get after Create", kv, key, "one", rev, rev)

	_, err = s.Create(ctx, key, []byte("two"))
	wantErr(t, "second Create", err, storage.ErrKeyExists)
	kv, err = s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get after failed Create: %v", err)
	}
	wantKV(t, "Get after failed Create", kv, key, "one", rev, rev)

	rev2 := mustCreate(t, s, prefix+"b", "")
	if rev2 <= rev {
		t.Fatalf("second key got revision %d, want > %d", rev2, rev)
	}
}

func testGetNotFound(t *testing.T, s storage.Store, prefix string) {
	_, err := s.Get(testContext(t), prefix+"missing")
	wantErr(t, "Get of a missing key", err, storage.ErrNotFound)
}

func testCurrentRevision(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	rev := mustCreate(t, s, prefix+"a", "x")
	cur, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatalf("CurrentRevision: %v", err)
	}
	if cur < rev {
		t.Fatalf("CurrentRevision = %d after a write at %d", cur, rev)
	}
	rev2 := mustUpdate(t, s, prefix+"a", "y", rev)
	cur2, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatalf("CurrentRevision: %v", err)
	}
	if cur2 < rev2 || cur2 <= cur {
		t.Fatalf("CurrentRevision = %d after a write at %d (was %d)", cur2, rev2, cur)
	}
}

func testUpdateCAS(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	key := prefix + "a"
	created := mustCreate(t, s, key, "v1")
	rev := mustUpdate(t, s, key, "v2", created)
	kv, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get after Update: %v", err)
	}
	wantKV(t, "Get after Update", kv, key, "v2", rev, created)

	_, err = s.Update(ctx, key, []byte("stale"), created)
	wantErr(t, "Update at a stale revision", err, storage.ErrConflict)
	_, err = s.Update(ctx, key, []byte("zero"), 0)
	wantErr(t, "Update at revision 0", err, storage.ErrConflict)
	kv, err = s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get after conflicts: %v", err)
	}
	wantKV(t, "Get after conflicts", kv, key, "v2", rev, created)

	_, err = s.Update(ctx, prefix+"missing", []byte("x"), rev)
	wantErr(t, "Update of a missing key", err, storage.ErrNotFound)
	_, err = s.Update(ctx, prefix+"missing", []byte("x"), 0)
	wantErr(t, "Update of a missing key at revision 0", err, storage.ErrNotFound)
	_, err = s.Get(ctx, prefix+"missing")
	wantErr(t, "Get after Update of a missing key", err, storage.ErrNotFound)
}

func testDeleteWithoutPrecondition(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	key := prefix + "a"
	created := mustCreate(t, s, key, "v1")
	mod := mustUpdate(t, s, key, "v2", created)
	kv, rev, err := s.Delete(ctx, key, 0)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantKV(t, "deleted value", kv, key, "v2", mod, created)
	if rev <= mod {
		t.Fatalf("Delete revision %d, want > %d", rev, mod)
	}
	_, err = s.Get(ctx, key)
	wantErr(t, "Get after Delete", err, storage.ErrNotFound)
	_, _, err = s.Delete(ctx, key, 0)
	wantErr(t, "second Delete", err, storage.ErrNotFound)

	again := mustCreate(t, s, key, "v3")
	if again <= rev {
		t.Fatalf("re-Create revision %d, want > %d", again, rev)
	}
}

func testDeleteWithPrecondition(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	key := prefix + "a"
	created := mustCreate(t, s, key, "v1")
	mod := mustUpdate(t, s, key, "v2", created)

	_, _, err := s.Delete(ctx, key, created)
	wantErr(t, "Delete at a stale revision", err, storage.ErrConflict)
	if _, err := s.Get(ctx, key); err != nil {
		t.Fatalf("Get after failed Delete: %v", err)
	}
	kv, rev, err := s.Delete(ctx, key, mod)
	if err != nil {
		t.Fatalf("Delete at the current revision: %v", err)
	}
	wantKV(t, "deleted value", kv, key, "v2", mod, created)
	if rev <= mod {
		t.Fatalf("Delete revision %d, want > %d", rev, mod)
	}
	_, _, err = s.Delete(ctx, key, mod)
	wantErr(t, "Delete of a missing key with precondition", err, storage.ErrNotFound)
}
