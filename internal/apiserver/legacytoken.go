package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiffkube/skiff/internal/auth/serviceaccount"
	"github.com/skiffkube/skiff/internal/storage/cacher"
)

// Legacy service account token Secrets. Nothing creates them: a user
// writes a Secret of type kubernetes.io/service-account-token naming a
// ServiceAccount in the kubernetes.io/service-account.name annotation, and
// the server fills it inside the write (upstream's token controller does
// it just after): the kubernetes.io/service-account.uid annotation and
// data "token" (a non-expiring JWT), "namespace" and "ca.crt" (copied from
// the namespace's kube-root-ca.crt ConfigMap, else kube-system's). Unlike
// upstream, which deletes such a Secret later, a create naming a missing
// ServiceAccount (or another UID than the account's) is refused with 422.
// Deleting a ServiceAccount deletes its token Secrets, as upstream (no
// ownerReference is set, as upstream sets none).

// Resources the legacy tokens read (serviceAccountGVR is admission's).
var (
	legacySecretsGVR    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	legacyConfigMapsGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// installLegacyTokens fills token Secrets as they are written and deletes
// them with their ServiceAccount; without signing keys it does nothing.
func (s *Server) installLegacyTokens() {
	if s.cfg.ServiceAccountTokens == nil {
		return
	}
	secrets := s.stores[legacySecretsGVR]
	secrets.hooks.beforeCreate = chainCreate(func(ctx context.Context, obj runtime.Object, _ bool) (func(), error) {
		return func() {}, s.fillLegacyToken(ctx, obj.(*corev1.Secret), nil)
	}, secrets.hooks.beforeCreate)
	secrets.hooks.beforeUpdate = chainUpdate(func(ctx context.Context, obj, old runtime.Object, _ bool) (func(), error) {
		return func() {}, s.fillLegacyToken(ctx, obj.(*corev1.Secret), old.(*corev1.Secret))
	}, secrets.hooks.beforeUpdate)
	accounts := s.stores[serviceAccountGVR]
	next := accounts.hooks.afterDelete
	accounts.hooks.afterDelete = func(ctx context.Context, obj runtime.Object) {
		s.deleteLegacyTokens(context.WithoutCancel(ctx), obj.(*corev1.ServiceAccount))
		if next != nil {
			next(ctx, obj)
		}
	}
}

// fillLegacyToken completes a token Secret being created (old nil) or
// updated. A token already valid for the Secret is kept.
func (s *Server) fillLegacyToken(ctx context.Context, secret, old *corev1.Secret) error {
	if secret.Type != corev1.SecretTypeServiceAccountToken || secret.DeletionTimestamp != nil {
		return nil
	}
	if old != nil && old.Immutable != nil && *old.Immutable {
		return nil
	}
	name := secret.Annotations[serviceaccount.LegacyNameAnnotation]
	renamed := old == nil || old.Annotations[serviceaccount.LegacyNameAnnotation] != name
	obj, err := s.lookupObject(ctx, serviceAccountGVR, secret.Namespace, name)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("looking up service account %s/%s: %w", secret.Namespace, name, err))
	}
	annotations := field.NewPath("metadata", "annotations")
	if obj == nil || objectMeta(obj).GetDeletionTimestamp() != nil {
		if !renamed {
			return nil // the account went away; its deletion removes this Secret
		}
		return legacyTokenInvalid(secret, field.Invalid(annotations.Key(serviceaccount.LegacyNameAnnotation), name,
			"the service account does not exist"))
	}
	uid := string(objectMeta(obj).GetUID())
	have, set := secret.Annotations[serviceaccount.LegacyUIDAnnotation]
	userSet := set && (old == nil || have != old.Annotations[serviceaccount.LegacyUIDAnnotation])
	switch {
	case userSet && have != uid:
		return legacyTokenInvalid(secret, field.Invalid(annotations.Key(serviceaccount.LegacyUIDAnnotation), have,
			fmt.Sprintf("service account %q has UID %s", name, uid)))
	case set && have != uid && !renamed:
		return nil // the account was replaced; its deletion removes this Secret
	}
	claims := serviceaccount.LegacyClaims{Namespace: secret.Namespace, SecretName: secret.Name, ServiceAccountName: name, ServiceAccountUID: uid}
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	if !s.cfg.ServiceAccountTokens.LegacyTokenMatches(string(secret.Data[serviceaccount.LegacyTokenKey]), claims) {
		token, err := s.cfg.ServiceAccountTokens.SignLegacy(claims)
		if err != nil {
			return apierrors.NewInternalError(err)
		}
		secret.Data[serviceaccount.LegacyTokenKey] = []byte(token)
	}
	if secret.Annotations == nil {
		secret.Annotations = map[string]string{}
	}
	secret.Annotations[serviceaccount.LegacyUIDAnnotation] = uid
	secret.Data[serviceaccount.LegacyNamespaceKey] = []byte(secret.Namespace)
	if ca := s.rootCA(ctx, secret.Namespace); len(ca) > 0 {
		secret.Data[serviceaccount.LegacyCAKey] = ca
	}
	return nil
}

// legacyTokenInvalid is the 422 of a token Secret that cannot be filled.
func legacyTokenInvalid(secret *corev1.Secret, err *field.Error) error {
	return errInvalid(schema.GroupKind{Kind: "Secret"}, secret.Name, fieldErr(err))
}

// rootCA is the cluster CA bundle as published in the namespace's
// kube-root-ca.crt ConfigMap (kube-system's when the namespace has none
// yet); nil when neither exists.
func (s *Server) rootCA(ctx context.Context, namespace string) []byte {
	for _, ns := range []string{namespace, metav1.NamespaceSystem} {
		obj, err := s.lookupObject(ctx, legacyConfigMapsGVR, ns, rootCAConfigMap)
		if err != nil || obj == nil {
			continue
		}
		if ca := obj.(*corev1.ConfigMap).Data[serviceaccount.LegacyCAKey]; ca != "" {
			return []byte(ca)
		}
	}
	return nil
}

// deleteLegacyTokens deletes the token Secrets of a deleted ServiceAccount
// (those naming it whose UID annotation is its UID or unset).
func (s *Server) deleteLegacyTokens(ctx context.Context, sa *corev1.ServiceAccount) {
	rs := s.stores[legacySecretsGVR]
	// A consistent list, so that a Secret written just before is seen.
	res, err := rs.cache.List(ctx, cacher.ListOptions{KeyPrefix: rs.keyPrefix(sa.Namespace)})
	if err != nil {
		s.cfg.Logger.Error("listing token secrets of a deleted service account", "namespace", sa.Namespace, "name", sa.Name, "err", err)
		return
	}
	for _, obj := range res.Items {
		secret := obj.(*corev1.Secret)
		if !isTokenOf(secret, sa) {
			continue
		}
		uid := secret.UID
		_, err := rs.delete(ctx, secret.Namespace, secret.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			s.cfg.Logger.Error("deleting the token secret of a deleted service account", "namespace", secret.Namespace, "name", secret.Name, "err", err)
		}
	}
}

// isTokenOf reports whether secret is a token Secret of sa.
func isTokenOf(secret *corev1.Secret, sa *corev1.ServiceAccount) bool {
	if secret.Type != corev1.SecretTypeServiceAccountToken || secret.Annotations[serviceaccount.LegacyNameAnnotation] != sa.Name {
		return false
	}
	uid, ok := secret.Annotations[serviceaccount.LegacyUIDAnnotation]
	return !ok || uid == "" || types.UID(uid) == sa.UID
}

// legacyLookup answers the legacy token authenticator from this server's
// objects (the watch cache first); objects being deleted count as gone.
type legacyLookup struct{ s *Server }

func (l legacyLookup) ServiceAccountUID(ctx context.Context, namespace, name string) (string, bool, error) {
	obj, err := l.s.lookupObject(ctx, serviceAccountGVR, namespace, name)
	if obj == nil || err != nil {
		return "", false, err
	}
	m := objectMeta(obj)
	if m.GetDeletionTimestamp() != nil {
		return "", false, nil
	}
	return string(m.GetUID()), true, nil
}

func (l legacyLookup) SecretToken(ctx context.Context, namespace, name string) ([]byte, bool, error) {
	secret, err := l.s.getSecret(ctx, namespace, name)
	if secret == nil || err != nil {
		return nil, false, err
	}
	if secret.DeletionTimestamp != nil || secret.Type != corev1.SecretTypeServiceAccountToken {
		return nil, false, nil
	}
	return secret.Data[serviceaccount.LegacyTokenKey], true, nil
}
