package cacher

import (
	"encoding/base64"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

func TestHistory(t *testing.T) {
	revs := func(evs []*event) []int64 {
		out := []int64{}
		for _, e := range evs {
			out = append(out, e.rev)
		}
		return out
	}
	tests := []struct {
		name   string
		start  int64
		add    []int64
		since  int64
		want   []int64
		wantOK bool
	}{
		{"empty, at start", 5, nil, 5, []int64{}, true},
		{"before start", 5, nil, 4, nil, false},
		{"all", 5, []int64{6, 7, 9}, 5, []int64{6, 7, 9}, true},
		{"middle", 5, []int64{6, 7, 9}, 7, []int64{9}, true},
		{"between revisions", 5, []int64{6, 7, 9}, 8, []int64{9}, true},
		{"latest", 5, []int64{6, 7, 9}, 9, []int64{}, true},
		{"after eviction: oldest kept resumable", 0, []int64{1, 2, 3, 4, 5}, 2, []int64{3, 4, 5}, true},
		{"after eviction: evicted", 0, []int64{1, 2, 3, 4, 5}, 1, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(3, tt.start)
			for _, r := range tt.add {
				h.add(&event{rev: r})
			}
			got, ok := h.since(tt.since)
			if ok != tt.wantOK || (ok && !reflect.DeepEqual(revs(got), tt.want)) {
				t.Fatalf("since(%d) = %v, %v; want %v, %v", tt.since, revs(got), ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestContinueToken(t *testing.T) {
	const prefix = "/registry/pods/"
	tok, err := encodeContinue(prefix+"ns/web\x00", prefix, 42)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(raw), `{"v":"meta.k8s.io/v1","rv":42,"start":"ns/web\u0000"}`; got != want {
		t.Fatalf("token JSON %s, want %s", got, want)
	}
	key, rev, err := decodeContinue(tok, prefix)
	if err != nil || key != prefix+"ns/web\x00" || rev != 42 {
		t.Fatalf("decode = %q, %d, %v", key, rev, err)
	}

	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, bad := range map[string]string{
		"not base64":    "%%%",
		"not JSON":      enc("nope"),
		"wrong version": enc(`{"v":"v2","rv":1,"start":"a"}`),
		"zero revision": enc(`{"v":"meta.k8s.io/v1","rv":0,"start":"a"}`),
		"empty start":   enc(`{"v":"meta.k8s.io/v1","rv":1,"start":""}`),
		"climbs out":    enc(`{"v":"meta.k8s.io/v1","rv":1,"start":"../secrets/x"}`),
		"dot segment":   enc(`{"v":"meta.k8s.io/v1","rv":1,"start":"ns/./x"}`),
	} {
		if _, _, err := decodeContinue(bad, prefix); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := encodeContinue("/registry/secrets/x", prefix, 1); err == nil {
		t.Error("encoded a key outside the prefix")
	}
}

func TestConvert(t *testing.T) {
	mk := func(name string, lbl map[string]string, rv string) *item {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: lbl, ResourceVersion: rv}}
		l, f, err := DefaultAttrs(cm)
		if err != nil {
			t.Fatal(err)
		}
		return &item{key: cmKey("ns", name), obj: cm, labels: l, fields: f}
	}
	web := map[string]string{"app": "web"}
	db := map[string]string{"app": "db"}
	w := &watcher{keyPrefix: testPrefix, label: labels.SelectorFromSet(web), field: fields.Everything()}
	tests := []struct {
		name     string
		cur      *item
		prev     *item
		wantOK   bool
		wantType watch.EventType
		wantRV   string
	}{
		{"create matching", mk("a", web, "5"), nil, true, watch.Added, "5"},
		{"create other", mk("a", db, "5"), nil, false, "", ""},
		{"update matching", mk("a", web, "5"), mk("a", web, "3"), true, watch.Modified, "5"},
		{"starts matching", mk("a", web, "5"), mk("a", db, "3"), true, watch.Added, "5"},
		{"stops matching", mk("a", db, "5"), mk("a", web, "3"), true, watch.Deleted, "5"},
		{"never matching", mk("a", db, "5"), mk("a", db, "3"), false, "", ""},
		{"delete matching", nil, mk("a", web, "3"), true, watch.Deleted, "5"},
		{"delete other", nil, mk("a", db, "3"), false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &event{key: cmKey("ns", "a"), rev: 5, cur: tt.cur, prev: tt.prev}
			ev, ok := w.convert(e)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			cm := ev.Object.(*corev1.ConfigMap)
			if ev.Type != tt.wantType || cm.ResourceVersion != tt.wantRV {
				t.Fatalf("got %s at %s, want %s at %s", ev.Type, cm.ResourceVersion, tt.wantType, tt.wantRV)
			}
			if tt.prev != nil && tt.prev.obj.(*corev1.ConfigMap).ResourceVersion != "3" {
				t.Fatal("convert mutated the cached previous object")
			}
		})
	}
	other := &watcher{keyPrefix: testPrefix + "other/", label: labels.Everything(), field: fields.Everything()}
	if _, ok := other.convert(&event{key: cmKey("ns", "a"), rev: 5, cur: mk("a", nil, "5")}); ok {
		t.Fatal("event outside the watcher's prefix converted")
	}
}
