package cacher

import (
	"context"
	"reflect"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

func TestListConsistentAfterWrites(t *testing.T) {
	s := newEtcd(t)
	c := startCacher(t, testConfig(s))
	ctx := context.Background()
	var last int64
	for _, n := range []string{"c", "a", "b"} {
		last = create(t, s, "ns1", n, nil, "x")
	}
	create(t, s, "ns2", "a", nil, "x")
	last = update(t, s, "ns1", "b", nil, "y")

	// A consistent list right after the writes sees all of them.
	res, err := c.List(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, res.Items), []string{"ns1/a", "ns1/b", "ns1/c", "ns2/a"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("items %v, want %v", got, want)
	}
	if res.ResourceVersion < last {
		t.Fatalf("list RV %d older than the last write %d", res.ResourceVersion, last)
	}
	if res.Continue != "" || res.RemainingItemCount != nil {
		t.Fatalf("unpaginated list has continue %q, remaining %v", res.Continue, res.RemainingItemCount)
	}

	// One namespace, with a label selector.
	update(t, s, "ns1", "c", map[string]string{"app": "web"}, "z")
	res, err = c.List(ctx, ListOptions{KeyPrefix: testPrefix + "ns1/", Label: labels.SelectorFromSet(labels.Set{"app": "web"})})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, res.Items), []string{"ns1/c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("selected %v, want %v", got, want)
	}

	// A consistent list also works with no write since the cache synced
	// (progress notification instead of events).
	res2, err := c.List(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Items) != 4 {
		t.Fatalf("second list has %d items", len(res2.Items))
	}
}

func TestListResourceVersionZeroIgnoresLimit(t *testing.T) {
	s := newEtcd(t)
	var last int64
	for _, n := range []string{"b", "a", "c"} {
		last = create(t, s, "ns", n, nil, "x")
	}
	c := startCacher(t, testConfig(s))
	res, err := c.List(context.Background(), ListOptions{ResourceVersion: "0", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, res.Items), []string{"ns/a", "ns/b", "ns/c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("items %v, want %v", got, want)
	}
	if res.ResourceVersion != last || res.Continue != "" {
		t.Fatalf("RV %d continue %q, want RV %d and no continue", res.ResourceVersion, res.Continue, last)
	}
}

func TestListPagination(t *testing.T) {
	s := newEtcd(t)
	c := startCacher(t, testConfig(s))
	ctx := context.Background()
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		lbl := map[string]string{}
		if n == "b" || n == "e" || n == "g" {
			lbl["pick"] = "yes"
		}
		create(t, s, "ns", n, lbl, "x")
	}
	type page struct {
		items     []string
		remaining int64 // -1: nil
		more      bool
	}
	var got []page
	var rv int64
	opts := ListOptions{Limit: 3}
	for {
		res, err := c.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		p := page{items: names(t, res.Items), remaining: -1, more: res.Continue != ""}
		if res.RemainingItemCount != nil {
			p.remaining = *res.RemainingItemCount
		}
		got = append(got, p)
		if rv == 0 {
			rv = res.ResourceVersion
			// Writes after the first page do not show in the next ones.
			create(t, s, "ns", "bb", nil, "late")
			remove(t, s, "ns", "f")
		} else if res.ResourceVersion != rv {
			t.Fatalf("page at RV %d, first page at %d", res.ResourceVersion, rv)
		}
		if res.Continue == "" {
			break
		}
		opts.Continue = res.Continue
	}
	want := []page{
		{[]string{"ns/a", "ns/b", "ns/c"}, 4, true},
		{[]string{"ns/d", "ns/e", "ns/f"}, 1, true},
		{[]string{"ns/g"}, -1, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pages %+v, want %+v", got, want)
	}

	// With a selector, pages are filled from sparse store pages and carry
	// no remaining count.
	sel := labels.SelectorFromSet(labels.Set{"pick": "yes"})
	res, err := c.List(ctx, ListOptions{Limit: 1, Label: sel})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, res.Items); !reflect.DeepEqual(got, []string{"ns/b"}) || res.Continue == "" || res.RemainingItemCount != nil {
		t.Fatalf("selected page %v continue %q remaining %v", got, res.Continue, res.RemainingItemCount)
	}
	res, err = c.List(ctx, ListOptions{Limit: 5, Label: sel, Continue: res.Continue})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, res.Items); !reflect.DeepEqual(got, []string{"ns/e", "ns/g"}) || res.Continue != "" {
		t.Fatalf("second selected page %v continue %q", got, res.Continue)
	}
}

func TestListExactAndOldRevisions(t *testing.T) {
	s := newEtcd(t)
	cfg := testConfig(s)
	cfg.WaitTimeout = 300 * time.Millisecond
	c := startCacher(t, cfg)
	ctx := context.Background()
	rev1 := create(t, s, "ns", "a", nil, "v1")
	update(t, s, "ns", "a", nil, "v2")
	last := create(t, s, "ns", "b", nil, "v1")

	res, err := c.List(ctx, ListOptions{ResourceVersion: rvString(rev1), ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.ResourceVersion != rev1 {
		t.Fatalf("exact list: %d items at RV %d, want 1 at %d", len(res.Items), res.ResourceVersion, rev1)
	}
	if got := summarize(t, watchEvent(res.Items[0])); got.Data != "v1" || got.RV != rvString(rev1) {
		t.Fatalf("exact list item %v, want data v1 at %d", got, rev1)
	}

	// Not older than: served once the cache is there.
	res, err = c.List(ctx, ListOptions{ResourceVersion: rvString(last), ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
	if err != nil || len(res.Items) != 2 || res.ResourceVersion < last {
		t.Fatalf("not-older-than list: %v, %+v", err, res)
	}

	// A revision the store has not reached.
	_, err = c.List(ctx, ListOptions{ResourceVersion: rvString(last + 100)})
	if !IsTooLargeResourceVersion(err) {
		t.Fatalf("future RV: got %v, want too large resource version", err)
	}
	_, err = c.List(ctx, ListOptions{ResourceVersion: rvString(last + 100), ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if !IsTooLargeResourceVersion(err) {
		t.Fatalf("future exact RV: got %v, want too large resource version", err)
	}

	// A paginated list whose revision is then compacted.
	page, err := c.List(ctx, ListOptions{Limit: 1})
	if err != nil || page.Continue == "" {
		t.Fatalf("first page: %v %+v", err, page)
	}
	update(t, s, "ns", "b", nil, "v2")
	cur, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx, cur); err != nil {
		t.Fatal(err)
	}
	_, err = c.List(ctx, ListOptions{ResourceVersion: rvString(rev1), ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if !apierrors.IsResourceExpired(err) {
		t.Fatalf("compacted exact RV: got %v, want 410 Expired", err)
	}
	_, err = c.List(ctx, ListOptions{Limit: 1, Continue: page.Continue})
	if !apierrors.IsResourceExpired(err) {
		t.Fatalf("compacted continue: got %v, want 410 Expired", err)
	}
}

func TestListBadOptions(t *testing.T) {
	s := newEtcd(t)
	c := startCacher(t, testConfig(s))
	for name, opts := range map[string]ListOptions{
		"continue with RV":   {Continue: "x", ResourceVersion: "1"},
		"garbage continue":   {Continue: "!!"},
		"match without RV":   {ResourceVersionMatch: metav1.ResourceVersionMatchExact},
		"exact zero":         {ResourceVersion: "0", ResourceVersionMatch: metav1.ResourceVersionMatchExact},
		"bad RV":             {ResourceVersion: "abc"},
		"prefix outside":     {KeyPrefix: "/registry/secrets/"},
		"unknown match kind": {ResourceVersion: "1", ResourceVersionMatch: "Newest"},
	} {
		if _, err := c.List(context.Background(), opts); !apierrors.IsBadRequest(err) {
			t.Errorf("%s: got %v, want 400", name, err)
		}
	}
}

// TestConsistentListUsesProgress: writes elsewhere move the store's revision
// past the cache's; a consistent list must catch up through a progress
// notification, not by falling back to the store after WaitTimeout.
func TestConsistentListUsesProgress(t *testing.T) {
	s := newEtcd(t)
	cfg := testConfig(s)
	cfg.WaitTimeout = time.Minute
	c := startCacher(t, cfg)
	ctx := context.Background()
	create(t, s, "ns", "a", nil, "1")
	other, err := s.Create(ctx, "/registry/secrets/ns/x", []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	res, err := c.List(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ResourceVersion < other || len(res.Items) != 1 {
		t.Fatalf("list at RV %d with %d items, want RV >= %d and 1 item", res.ResourceVersion, len(res.Items), other)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Fatalf("consistent list took %v", d)
	}
	// The same holds for a watch from the latest revision.
	no := false
	w, err := c.Watch(ctx, WatchOptions{SendInitialEvents: &no})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	r := update(t, s, "ns", "a", nil, "2")
	expectEvents(t, w, seen{watch.Modified, "a", rvString(r), "2"})
}
