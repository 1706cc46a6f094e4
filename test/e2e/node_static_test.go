package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/image"
)

// testStaticPod drops a manifest into <data-dir>/agent/manifests: its
// mirror pod <name>-<node> appears and runs; deleting the mirror pod does
// not stop the static pod (the mirror comes back with the same
// container); removing the file removes the pod.
func testStaticPod(t *testing.T, n *upNode) {
	n.proc.must(t, "create", "namespace", "statics")
	manifest := `apiVersion: v1
kind: Pod
metadata: {name: lonely, namespace: statics, labels: {role: static}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: registry.skiff.local/busybox:1.35
    command: ["sh", "-c", "trap 'exit 0' TERM; echo static up; while true; do sleep 1; done"]
`
	file := filepath.Join(n.dataDir, "agent", "manifests", "lonely.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	mirror := "lonely-" + n.name
	n.dumpOnFailure(t, "statics", mirror)
	containerID := func() string {
		return n.get("pod", mirror, "{.status.containerStatuses[0].containerID}", "-n", "statics")
	}
	eventually(t, "mirror pod "+mirror+" Running", 60*time.Second, func() bool {
		return n.get("pod", mirror, "{.status.phase}", "-n", "statics") == "Running" && containerID() != ""
	})
	wantContains(t, "kubectl get pods -n statics", n.proc.must(t, "get", "pods", "-n", "statics"), mirror, "Running")
	if got := n.get("pod", mirror, `{.metadata.annotations.kubernetes\.io/config\.mirror}`, "-n", "statics"); got == "" {
		t.Errorf("mirror pod has no kubernetes.io/config.mirror annotation")
	}
	if got := n.get("pod", mirror, "{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}", "-n", "statics"); got != "Node/"+n.name {
		t.Errorf("mirror pod owner = %q, want Node/%s", got, n.name)
	}
	wantContains(t, "logs of the static pod", n.proc.must(t, "logs", "-n", "statics", mirror), "static up")
	id, uid := containerID(), n.get("pod", mirror, "{.metadata.uid}", "-n", "statics")

	// --wait=false: the mirror pod comes back under the same name at
	// once, and kubectl's wait (GET sees the old pod, the LIST after it
	// the new one, then it waits for a DELETED event) would never end.
	n.proc.must(t, "delete", "pod", "-n", "statics", mirror, "--wait=false")
	eventually(t, "mirror pod recreated", 60*time.Second, func() bool {
		u := n.get("pod", mirror, "{.metadata.uid}", "-n", "statics")
		return u != "" && u != uid && containerID() != ""
	})
	if got := containerID(); got != id {
		t.Errorf("deleting the mirror pod restarted the static pod: container %s, was %s", got, id)
	}
	if got := n.get("pod", mirror, "{.status.containerStatuses[0].restartCount}", "-n", "statics"); got != "0" {
		t.Errorf("static pod restartCount = %q after deleting its mirror, want 0", got)
	}

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	eventually(t, "mirror pod gone with its manifest", 60*time.Second, func() bool {
		out, _, err := n.proc.kubectl("", nil, "get", "pods", "-n", "statics", "-o", "name")
		return err == nil && strings.TrimSpace(out) == ""
	})
}

// testImageImport builds an image no other test has, imports it with
// `skiff image import` into the running node, and runs it with
// imagePullPolicy Never (its default command comes from the image).
func testImageImport(t *testing.T, n *upNode) {
	busybox, err := image.BusyboxLayer(context.Background(), "/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	spec := image.Spec{
		Names:        []string{"example.com/e2e/imported:v1"},
		Layers:       [][]image.File{busybox, {{Path: "/greeting", Mode: 0o644, Data: []byte("imported ok\n")}}},
		Architecture: runtime.GOARCH, OS: "linux",
		Config: image.ContainerConfig{Cmd: []string{"cat", "/greeting"}, Env: []string{"PATH=/bin"}},
		Gzip:   true,
	}
	var buf bytes.Buffer
	if _, err := image.WriteArchive(&buf, spec); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "imported.tar")
	if err := os.WriteFile(tarball, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(suite.binary, "image", "import", "--data-dir", n.dataDir, tarball).CombinedOutput()
	if err != nil {
		t.Fatalf("skiff image import: %v\n%s", err, out)
	}
	wantContains(t, "skiff image import", string(out), "example.com/e2e/imported:v1")

	n.proc.must(t, "run", "imported", "--image=example.com/e2e/imported:v1", "--image-pull-policy=Never", "--restart=Never")
	n.proc.must(t, "run", "notimported", "--image=example.com/e2e/absent:v1", "--image-pull-policy=Never", "--restart=Never")
	eventually(t, "imported Succeeded", 60*time.Second, func() bool {
		return n.get("pod", "imported", "{.status.phase}") == "Succeeded"
	})
	if got := n.proc.must(t, "logs", "imported"); got != "imported ok\n" {
		t.Errorf("logs of the imported image = %q, want %q", got, "imported ok\n")
	}
	eventually(t, "notimported ErrImageNeverPull", 30*time.Second, func() bool {
		return n.podStatus("notimported") == "ErrImageNeverPull"
	})
}
