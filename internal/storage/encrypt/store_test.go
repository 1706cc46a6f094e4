package encrypt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/storage"
	"github.com/skiffkube/skiff/internal/storage/etcd/etcdtest"
	"github.com/skiffkube/skiff/internal/storage/storagetest"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestContract runs the storage contract through a Store that encrypts
// every key.
func TestContract(t *testing.T) {
	inner := etcdtest.New(t)
	cfg := &Configuration{APIVersion: APIVersion, Kind: Kind, Resources: []ResourceConfig{{Resources: []string{"*.*"}, Providers: []ProviderConfig{gcm("k")}}}}
	s, err := New(inner, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.t.Load().rules[0].prefixes = []string{"/"}
	storagetest.Run(t, func(*testing.T) storage.Store { return s })
	// The contract's values went through encryption.
	res, err := inner.List(ctxFor(t), "/storagetest/", storage.ListOptions{Limit: 1})
	if err != nil || len(res.Items) == 0 {
		t.Fatalf("raw list: %v %v", res, err)
	}
	if got := KeyOf(res.Items[0].Value); got != "aesgcm:k" {
		t.Fatalf("raw value key = %q, want aesgcm:k", got)
	}
}

func TestEncryptedInEtcdAndRotation(t *testing.T) {
	ctx := ctxFor(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "encryption-config.yaml")
	inner := etcdtest.New(t)
	// A secret stored before encryption was on.
	legacy := "/registry/secrets/default/legacy"
	if _, err := inner.Create(ctx, legacy, []byte(`{"data":"plain-legacy"}`)); err != nil {
		t.Fatal(err)
	}
	cfg, created, err := EnsureFile(path, nil)
	if err != nil || !created {
		t.Fatalf("EnsureFile: created=%v err=%v", created, err)
	}
	s, err := New(inner, cfg, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	key := "/registry/secrets/default/db"
	if _, err := s.Create(ctx, key, []byte(`{"data":"hunter2"}`)); err != nil {
		t.Fatal(err)
	}
	raw, err := inner.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw.Value), "hunter2") || KeyOf(raw.Value) != "secretbox:key1" {
		t.Fatalf("raw etcd value %q is not sealed with secretbox:key1", raw.Value)
	}
	// A watch sees plaintext.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := s.Watch(wctx, "/registry/secrets/", raw.ModRevision)

	res, err := s.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.NewKey != "secretbox:key2" || res.Rewritten != 2 {
		t.Fatalf("Rotate = %+v, want key2 and 2 values rewritten (db and legacy)", res)
	}
	if got := res.Status.Resources[0].Stored; got["secretbox:key2"] != 2 || len(got) != 1 {
		t.Fatalf("stored per key after rotation = %v", got)
	}
	for _, k := range []string{key, legacy} {
		raw, err := inner.Get(ctx, k)
		if err != nil || KeyOf(raw.Value) != "secretbox:key2" {
			t.Fatalf("raw %s after rotation: %q %v", k, raw.Value, err)
		}
	}
	resp := <-w
	if len(resp.Events) == 0 || !strings.Contains(string(resp.Events[0].KV.Value), `"data":`) || resp.Events[0].PrevKV == nil ||
		!strings.Contains(string(resp.Events[0].PrevKV.Value), "hunter2") {
		t.Fatalf("watch after rotation: %+v", resp)
	}

	// A restart loads the rotated file and reads everything.
	loaded, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(inner, loaded, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Get(ctx, key)
	if err != nil || string(got.Value) != `{"data":"hunter2"}` {
		t.Fatalf("Get after restart = %q, %v", got.Value, err)
	}
	list, err := s2.List(ctx, "/registry/secrets/", storage.ListOptions{})
	if err != nil || len(list.Items) != 2 || string(list.Items[1].Value) != `{"data":"plain-legacy"}` {
		t.Fatalf("List after restart = %+v, %v", list, err)
	}
}

func TestEnsureFileKeepsExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "enc.yaml")
	first, created, err := EnsureFile(path, nil)
	if err != nil || !created {
		t.Fatalf("first EnsureFile: %v %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, %v; want 0600", fi.Mode(), err)
	}
	second, created, err := EnsureFile(path, nil)
	if err != nil || created {
		t.Fatalf("second EnsureFile: %v %v", created, err)
	}
	if a, b := first.Resources[0].Providers[0].Secretbox.Keys[0], second.Resources[0].Providers[0].Secretbox.Keys[0]; a != b {
		t.Fatalf("key changed between starts: %v vs %v", a, b)
	}
}
