package apiserver

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/auth"
)

// nodeName is the node a user stands for ("system:node:<name>" in
// "system:nodes"), or "" for any other user.
func nodeName(u *auth.User) string {
	if u == nil || !strings.HasPrefix(u.Name, "system:node:") {
		return ""
	}
	for _, g := range u.Groups {
		if g == "system:nodes" {
			return strings.TrimPrefix(u.Name, "system:node:")
		}
	}
	return ""
}

// admitNodeCreate is NodeRestriction on create: a node creates only
// mirror pods bound to itself and only its own Node.
func admitNodeCreate(gr schema.GroupResource, u *auth.User, obj runtime.Object) error {
	node := nodeName(u)
	if node == "" {
		return nil
	}
	var err error
	switch o := obj.(type) {
	case *corev1.Pod:
		err = nodeMayCreatePod(node, o)
	case *corev1.Node:
		if o.Name != node {
			err = fmt.Errorf("node %q is not allowed to modify node %q", node, o.Name)
		}
	}
	if err != nil {
		return apierrors.NewForbidden(gr, objectMeta(obj).GetName(), err)
	}
	return nil
}

func nodeMayCreatePod(node string, p *corev1.Pod) error {
	if !isMirrorPod(p) {
		return fmt.Errorf("pod does not have %q annotation, node %q can only create mirror pods", mirrorPodAnnotation, node)
	}
	if p.Spec.NodeName != node {
		return fmt.Errorf("node %q can only create pods with spec.nodeName set to itself", node)
	}
	if p.Spec.ServiceAccountName != "" {
		return fmt.Errorf("node %q can not create pods that reference a service account", node)
	}
	for _, ref := range p.OwnerReferences {
		if ref.APIVersion != "v1" || ref.Kind != "Node" || ref.Name != node {
			return fmt.Errorf("node %q can only create pods with an owner reference set to itself", node)
		}
	}
	return nil
}

// admitNodeUpdate is NodeRestriction on updates of the main resource: a
// node changes only its own Node, and pods only through their status.
func admitNodeUpdate(gr schema.GroupResource, u *auth.User, obj runtime.Object) error {
	node := nodeName(u)
	if node == "" {
		return nil
	}
	var err error
	switch o := obj.(type) {
	case *corev1.Pod:
		err = fmt.Errorf("node %q can only update pod status", node)
	case *corev1.Node:
		if o.Name != node {
			err = fmt.Errorf("node %q is not allowed to modify node %q", node, o.Name)
		}
	}
	if err != nil {
		return apierrors.NewForbidden(gr, objectMeta(obj).GetName(), err)
	}
	return nil
}
