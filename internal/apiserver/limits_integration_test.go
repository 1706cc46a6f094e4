package apiserver_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/auth/pki"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// userClient is an HTTP client for user (in system:masters, so RBAC lets it
// do anything and only the limits stand in its way).
func userClient(t *testing.T, srv *server.Server, user string) *http.Client {
	t.Helper()
	ca, err := pki.EnsureCA(filepath.Join(filepath.Dir(srv.KubeconfigPath), "tls"), "skiff-ca", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueClientCert(user, []string{"system:masters"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(srv.AdminConfig())
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	c, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func get(ctx context.Context, c *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// TestNoisyUserDoesNotStarveOthers floods the server from user A with 500
// concurrent requests while user B's requests still succeed promptly; A is
// told to back off with 429 and Retry-After.
func TestNoisyUserDoesNotStarveOthers(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler, c.DisableControllerManager = true, true
		c.MaxRequestsInflight, c.MaxMutatingRequestsInflight = 4, 2
	})
	a, b := userClient(t, srv, "noisy-a"), userClient(t, srv, "quiet-b")
	url := srv.URL + "/api/v1/namespaces/default/configmaps"

	// Connect first: 500 requests at once on a new client would each dial.
	for _, c := range []*http.Client{a, b} {
		if _, err := get(context.Background(), c, url); err != nil {
			t.Fatal(err)
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var ok, tooMany, retryAfter atomic.Int64
	for range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, err := get(ctx, a, url)
				if err != nil {
					continue
				}
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusTooManyRequests:
					tooMany.Add(1)
					if resp.Header.Get("Retry-After") == "1" {
						retryAfter.Add(1)
					}
					// An impatient client: it retries well before the
					// second it was told to wait.
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	defer func() { stop(); wg.Wait() }()
	// Wait until A is being refused: the server is saturated.
	deadline := time.Now().Add(30 * time.Second)
	for tooMany.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if tooMany.Load() == 0 {
		t.Fatalf("500 concurrent requests were never refused (%d served)", ok.Load())
	}
	var slowest time.Duration
	for i := range 20 {
		start := time.Now()
		resp, err := get(context.Background(), b, url)
		if err != nil {
			t.Fatalf("B's request %d: %v", i, err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("B's request %d: status %d under A's flood", i, resp.StatusCode)
		}
		slowest = max(slowest, time.Since(start))
	}
	if slowest > time.Second {
		t.Errorf("B's slowest request took %v under A's flood", slowest)
	}
	stop()
	wg.Wait()
	if retryAfter.Load() != tooMany.Load() {
		t.Errorf("%d of %d 429 answers had Retry-After: 1", retryAfter.Load(), tooMany.Load())
	}
	t.Logf("A: %d served, %d refused; B's slowest of 20: %v", ok.Load(), tooMany.Load(), slowest)
}

func TestBodyOverLimitIsRefused(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler, c.DisableControllerManager = true, true
	})
	c := userClient(t, srv, "big-writer")
	body := bytes.Repeat([]byte("x"), 3<<20+1)
	for _, chunked := range []bool{false, true} {
		var r io.Reader = bytes.NewReader(body)
		if chunked {
			r = io.MultiReader(r) // no length: read up to the limit
		}
		resp, err := c.Post(srv.URL+"/api/v1/namespaces/default/configmaps", "application/json", r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked=%v: status %d, want 413", chunked, resp.StatusCode)
		}
	}
}
