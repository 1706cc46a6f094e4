package securitycheck

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// dryRun creates nothing: admission runs, storage does not.
var dryRun = metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}

// probeName is a fresh name for the objects and identities of a probe.
func probeName(kind string) string { return "skiff-cis-" + kind + "-" + utilrand.String(5) }

func checkAnonymous(ctx context.Context, t *Target) Result {
	code, _, err := rawGet(ctx, rest.AnonymousClientConfig(t.Admin), "/api")
	switch {
	case err != nil:
		return fail("GET /api without credentials: %v", err)
	case code != http.StatusUnauthorized:
		return fail("GET /api without credentials answered %d, want 401", code)
	}
	return pass("GET /api without credentials is 401")
}

// clientAs is a clientset for a fresh identity.
func (t *Target) clientAs(user string, groups ...string) (kubernetes.Interface, error) {
	cfg, err := t.identity(user, groups...)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

func checkNonAdminDenied(ctx context.Context, t *Target) Result {
	cs, err := t.clientAs(probeName("user"))
	if err != nil {
		return fail("%v", err)
	}
	_, err = cs.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		return fail("an identity without roles listing kube-system secrets got %v, want 403", errText(err))
	}
	return pass("an identity without roles is denied kube-system secrets")
}

func checkRBAC(ctx context.Context, t *Target) Result {
	user := probeName("rbac")
	ns := "default"
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: user},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"list"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
	rbac := t.admin.RbacV1()
	if _, err := rbac.Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		return fail("creating a probe Role: %v", err)
	}
	defer rbac.Roles(ns).Delete(context.WithoutCancel(ctx), user, metav1.DeleteOptions{})
	if _, err := rbac.RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return fail("creating a probe RoleBinding: %v", err)
	}
	defer rbac.RoleBindings(ns).Delete(context.WithoutCancel(ctx), user, metav1.DeleteOptions{})
	cs, err := t.clientAs(user)
	if err != nil {
		return fail("%v", err)
	}
	if err := waitFor(ctx, func() error {
		_, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		return err
	}); err != nil {
		return fail("a RoleBinding granting list configmaps did not take effect: %v", err)
	}
	if _, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		return fail("listing secrets beyond the Role got %v, want 403", errText(err))
	}
	return pass("a Role grants exactly its rules")
}

func checkNodeAuthorizer(ctx context.Context, t *Target) Result {
	node := probeName("node")
	cs, err := t.clientAs("system:node:"+node, "system:nodes")
	if err != nil {
		return fail("%v", err)
	}
	_, err = cs.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		return fail("node %s listing kube-system secrets got %v, want 403", node, errText(err))
	}
	_, err = cs.CoreV1().Secrets("default").Get(ctx, "unrelated", metav1.GetOptions{})
	if !apierrors.IsForbidden(err) {
		return fail("node %s reading a secret no pod of it uses got %v, want 403", node, errText(err))
	}
	return pass("a node may not list secrets nor read those of other nodes' pods")
}

func probePod(name, node string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
}

func checkNamespaceLifecycle(ctx context.Context, t *Target) Result {
	ns := probeName("missing")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}
	_, err := t.admin.CoreV1().ConfigMaps(ns).Create(ctx, cm, dryRun)
	if !apierrors.IsNotFound(err) {
		return fail("creating in the missing namespace %s got %v, want 404", ns, errText(err))
	}
	return pass("objects cannot be created in a missing namespace")
}

func checkServiceAccountAdmission(ctx context.Context, t *Target) Result {
	pod, err := t.admin.CoreV1().Pods("default").Create(ctx, probePod(probeName("sa"), ""), dryRun)
	if err != nil {
		return fail("dry-run pod create: %v", err)
	}
	if pod.Spec.ServiceAccountName != "default" {
		return fail("a pod without a service account got %q, want \"default\"", pod.Spec.ServiceAccountName)
	}
	for _, v := range pod.Spec.Volumes {
		if v.Projected != nil && strings.HasPrefix(v.Name, "kube-api-access-") {
			return pass("pods get the default service account and a projected token volume")
		}
	}
	return fail("a pod got no kube-api-access projected token volume")
}

func checkNodeRestriction(ctx context.Context, t *Target) Result {
	node := probeName("node")
	cs, err := t.clientAs("system:node:"+node, "system:nodes")
	if err != nil {
		return fail("%v", err)
	}
	_, err = cs.CoreV1().Pods("default").Create(ctx, probePod(probeName("np"), node), dryRun)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "mirror") {
		return fail("node %s creating a non-mirror pod got %v, want 403 from NodeRestriction", node, errText(err))
	}
	return pass("a node may create only mirror pods")
}

func checkPodSecurity(ctx context.Context, t *Target) Result {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: probeName("psa"),
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}}
	if _, err := t.admin.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fail("creating a probe namespace: %v", err)
	}
	defer t.admin.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), ns.Name, metav1.DeleteOptions{})
	pod := probePod(probeName("priv"), "")
	privileged := true
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &privileged}
	var err error
	waitErr := waitFor(ctx, func() error {
		_, err = t.admin.CoreV1().Pods(ns.Name).Create(ctx, pod, dryRun)
		if apierrors.IsForbidden(err) || err == nil {
			return nil
		}
		return err // e.g. the default service account not yet there
	})
	if waitErr != nil || !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "PodSecurity") {
		return fail("a privileged pod in a restricted namespace got %v, want 403 violating PodSecurity", errText(err))
	}
	return pass("a restricted namespace refuses a privileged pod")
}

func checkProfiling(ctx context.Context, t *Target) Result {
	code, _, err := rawGet(ctx, t.Admin, "/debug/pprof/")
	switch {
	case err != nil:
		return fail("GET /debug/pprof/: %v", err)
	case code == http.StatusOK:
		return fail("GET /debug/pprof/ as admin answered 200: profiling is on")
	}
	return pass("GET /debug/pprof/ as admin answered %d", code)
}

func errText(err error) string {
	if err == nil {
		return "success"
	}
	return fmt.Sprintf("%q", err.Error())
}
