package apiserver

import (
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func streamsPod(containers ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}, Spec: corev1.PodSpec{NodeName: "n1",
		InitContainers: []corev1.Container{{Name: "init"}}}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
	}
	return p
}

func TestPodLogLocation(t *testing.T) {
	unscheduled := streamsPod("a")
	unscheduled.Spec.NodeName = ""
	tests := []struct {
		name      string
		pod       *corev1.Pod
		query     string
		wantPath  string
		wantQuery string
		wantErr   string
	}{
		{"only container", streamsPod("a"), "follow=true&tailLines=5", "/containerLogs/ns/p/a", "follow=true&tailLines=5", ""},
		{"named", streamsPod("a", "b"), "container=b&previous=true&timestamps=false&sinceSeconds=10", "/containerLogs/ns/p/b", "previous=true&sinceSeconds=10", ""},
		{"init container", streamsPod("a", "b"), "container=init", "/containerLogs/ns/p/init", "", ""},
		{"must choose", streamsPod("a", "b"), "", "", "", "a container name must be specified for pod p, choose one of: [init a b]"},
		{"unknown", streamsPod("a"), "container=x", "", "", "container x is not valid for pod p"},
		{"bad tail", streamsPod("a"), "tailLines=-1", "", "", "tailLines"},
		{"zero limit", streamsPod("a"), "limitBytes=0", "", "", "limitBytes"},
		{"both since", streamsPod("a"), "sinceSeconds=1&sinceTime=2026-01-01T00:00:00Z", "", "", "at most one of"},
		{"unscheduled", unscheduled, "", "", "", ""},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		path, out, err := podLogLocation(tt.pod, q)
		if tt.wantErr != "" {
			if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want 400 %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || path != tt.wantPath || (path != "" && out.Encode() != tt.wantQuery) {
			t.Errorf("%s: got %q %q %v, want %q %q", tt.name, path, out.Encode(), err, tt.wantPath, tt.wantQuery)
		}
	}
}

func TestPodStreamLocation(t *testing.T) {
	done := streamsPod("a")
	done.Status.Phase = corev1.PodSucceeded
	tests := []struct {
		name      string
		pod       *corev1.Pod
		kind      string
		query     string
		wantPath  string
		wantQuery string
		wantErr   string
	}{
		{"exec", streamsPod("a"), "exec", "command=sh&command=-c&command=true&stdin=true&stdout=true&tty=true", "/exec/ns/p/a",
			"command=sh&command=-c&command=true&input=1&output=1&tty=1", ""},
		{"attach", streamsPod("a", "b"), "attach", "container=b&stdout=1&stderr=1", "/attach/ns/p/b", "error=1&output=1", ""},
		{"no streams", streamsPod("a"), "exec", "command=ls", "", "", "you must specify at least 1 of stdin, stdout, stderr"},
		{"no command", streamsPod("a"), "exec", "stdout=true", "", "", "you must specify a command"},
		{"completed", done, "exec", "command=ls&stdout=true", "", "", "cannot exec into a container in a completed pod; current phase is Succeeded"},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		path, out, err := podStreamLocation(tt.pod, q, tt.kind)
		if tt.wantErr != "" {
			if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want 400 %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || path != tt.wantPath || out.Encode() != tt.wantQuery {
			t.Errorf("%s: got %q %q %v, want %q %q", tt.name, path, out.Encode(), err, tt.wantPath, tt.wantQuery)
		}
	}
}

func TestNodeAddress(t *testing.T) {
	n := &corev1.Node{Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
		{Type: corev1.NodeHostName, Address: "host"}, {Type: corev1.NodeInternalIP, Address: "10.0.0.1"}}}}
	if got := nodeAddress(n); got != "10.0.0.1" {
		t.Errorf("nodeAddress = %q, want the InternalIP", got)
	}
	n.Status.Addresses = n.Status.Addresses[:1]
	if got := nodeAddress(n); got != "host" {
		t.Errorf("nodeAddress = %q, want the host name", got)
	}
}
