package server_test

import (
	"bytes"
	"crypto/tls"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/skiffkube/skiff/internal/server"
)

// TestRotateCertificatesWhileRunning rotates the server's certificates
// under a running server: new connections see the new serving
// certificate and the admin kubeconfig keeps working with its new one.
func TestRotateCertificatesWhileRunning(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &restartable{t: t, dir: filepath.Join(t.TempDir(), "data"), port: port}
	r.start()
	defer r.stop()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	served := func() []byte {
		t.Helper()
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reads the certificate only
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Raw
	}
	before := served()

	renewed, err := server.RotateCertificates(r.dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"serving.crt": false, "admin.crt": false, "apiserver-kubelet-client.crt": false, "scheduler.crt": false}
	for _, p := range renewed {
		if _, ok := want[filepath.Base(p)]; ok {
			want[filepath.Base(p)] = true
		}
	}
	for name, seen := range want {
		if !seen {
			t.Errorf("%s was not rotated (rotated %v)", name, renewed)
		}
	}

	deadline := time.Now().Add(10 * time.Second)
	for bytes.Equal(served(), before) {
		if time.Now().After(deadline) {
			t.Fatal("the server still presents the old certificate")
		}
		time.Sleep(300 * time.Millisecond)
	}
	// A fresh client from the admin kubeconfig presents the rotated admin
	// certificate and is still the admin.
	rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(r.dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(rc)
	if _, err := cs.CoreV1().Namespaces().Create(ctxT(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "rotated"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("admin after rotation: %v", err)
	}
}
