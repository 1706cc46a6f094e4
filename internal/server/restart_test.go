package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/server"
)

// restartable is a server on a fixed data dir and port that a test stops
// and starts again; clients built from its kubeconfig keep working.
type restartable struct {
	t      *testing.T
	dir    string
	port   int
	cancel context.CancelFunc
	srv    *server.Server
}

func (r *restartable) start() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := startServer(ctx, r.dir, nil, r.port)
	if err != nil {
		cancel()
		r.t.Fatalf("starting the server on %s: %v", r.dir, err)
	}
	r.srv, r.cancel = srv, cancel
}

// stop cancels the server's context, as SIGTERM does, and checks it
// returns cleanly.
func (r *restartable) stop() {
	r.t.Helper()
	r.cancel()
	done := make(chan error, 1)
	go func() { done <- r.srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			r.t.Fatalf("server stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		buf := make([]byte, 1<<22)
		r.t.Logf("goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		r.t.Fatal("server did not stop within 30s")
	}
}

// informerView follows configmaps through a shared informer and records
// every delete it is told about.
type informerView struct {
	mu      sync.Mutex
	changed chan struct{}
	deleted []string
	store   cache.Store
}

func newInformerView(inf cache.SharedIndexInformer) *informerView {
	v := &informerView{changed: make(chan struct{}, 1), store: inf.GetStore()}
	poke := func() {
		select {
		case v.changed <- struct{}{}:
		default:
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if c, ok := obj.(*corev1.ConfigMap); ok {
				v.mu.Lock()
				v.deleted = append(v.deleted, c.Name)
				v.mu.Unlock()
			}
			poke()
		},
	})
	return v
}

// state is "name=value" for every configmap in the informer's cache.
func (v *informerView) state() []string {
	var out []string
	for _, obj := range v.store.List() {
		c := obj.(*corev1.ConfigMap)
		if c.Name == rootCAConfigMap {
			continue // the root CA publisher's, there whenever it gets to the namespace
		}
		out = append(out, c.Name+"="+c.Data["v"])
	}
	sort.Strings(out)
	return out
}

// waitFor blocks until the informer's cache holds want.
func (v *informerView) waitFor(t *testing.T, want []string) {
	t.Helper()
	deadline := time.After(45 * time.Second)
	for {
		if got := v.state(); slices.Equal(got, want) {
			return
		}
		select {
		case <-v.changed:
		case <-time.After(500 * time.Millisecond):
		case <-deadline:
			t.Fatalf("informer state %v, want %v", v.state(), want)
		}
	}
}

func TestInformersAcrossRestart(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &restartable{t: t, dir: filepath.Join(t.TempDir(), "data"), port: port}
	r.start()
	cfg := r.srv.AdminConfig()
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := ctxT(t)
	const ns = "inf"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cms := cs.CoreV1().ConfigMaps(ns)
	put := func(name, v string) *corev1.ConfigMap {
		t.Helper()
		c, err := cms.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			c, err = cms.Create(ctx, cm(ns, name, map[string]string{"v": v}, nil), metav1.CreateOptions{})
		} else if err == nil {
			c.Data["v"] = v
			c, err = cms.Update(ctx, c, metav1.UpdateOptions{})
		}
		if err != nil {
			t.Fatalf("writing %s: %v", name, err)
		}
		return c
	}
	first := put("a", "1")
	put("b", "1")

	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	view := newInformerView(factory.Core().V1().ConfigMaps().Informer())
	stop := make(chan struct{})
	defer func() {
		close(stop)
		factory.Shutdown()
	}()
	factory.Start(stop)
	factory.WaitForCacheSync(stop)
	view.waitFor(t, []string{"a=1", "b=1"})

	// Restart with no change in between, then change through the new
	// server.
	r.stop()
	r.start()
	put("a", "2")
	view.waitFor(t, []string{"a=2", "b=1"})

	// Restart again; this time the changes happen while the informer's
	// watch is reconnecting.
	r.stop()
	r.start()
	put("c", "1")
	if err := cms.Delete(ctx, "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	put("a", "3")
	view.waitFor(t, []string{"a=3", "c=1"})
	view.mu.Lock()
	deleted := slices.Clone(view.deleted)
	view.mu.Unlock()
	if !slices.Equal(deleted, []string{"b"}) {
		t.Errorf("informer saw deletes of %v, want [b]", deleted)
	}

	// The watch cache starts at the restart: older versions are 410 Gone.
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: first.ResourceVersion})
	if err != nil {
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Fatalf("watch from a pre-restart version: %v", err)
		}
	} else {
		select {
		case ev := <-w.ResultChan():
			st, ok := ev.Object.(*metav1.Status)
			if ev.Type != watch.Error || !ok || st.Code != 410 || st.Reason != metav1.StatusReasonExpired {
				t.Errorf("watch from a pre-restart version: %s %+v, want an Error event with 410 Expired", ev.Type, ev.Object)
			}
		case <-time.After(10 * time.Second):
			t.Error("no event on a watch from a pre-restart version")
		}
		w.Stop()
	}

	// Objects and server-assigned fields survive the restart.
	got, err := cms.Get(ctx, "a", metav1.GetOptions{})
	if err != nil || got.UID != first.UID || got.CreationTimestamp != first.CreationTimestamp {
		t.Errorf("after restarts: %v uid %s→%s", err, first.UID, got.UID)
	}
	svc, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil || svc.Spec.ClusterIP != "10.96.0.1" {
		t.Errorf("kubernetes service after restart: %v %v", err, svc)
	}
	r.stop()
	// The stopped server refuses connections.
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err == nil {
		t.Error("a stopped server still answers")
	}
}

func TestShutdownEndsWatches(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &restartable{t: t, dir: filepath.Join(t.TempDir(), "data"), port: port}
	r.start()
	cs := kubernetes.NewForConfigOrDie(r.srv.AdminConfig())
	ctx := ctxT(t)
	w, err := cs.CoreV1().ConfigMaps("").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	start := time.Now()
	r.stop()
	// The open watch ends rather than holding shutdown up.
	for {
		select {
		case _, ok := <-w.ResultChan():
			if !ok {
				if d := time.Since(start); d > 20*time.Second {
					t.Errorf("shutdown took %v with an open watch", d)
				}
				return
			}
		case <-time.After(20 * time.Second):
			t.Fatal(fmt.Sprintf("watch still open %v after shutdown", time.Since(start)))
		}
	}
}
