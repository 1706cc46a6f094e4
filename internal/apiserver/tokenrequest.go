package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiffkube/skiff/internal/auth/serviceaccount"
)

// Token lifetimes, as upstream: an hour unless asked, at least ten
// minutes.
const (
	defaultTokenSeconds = 3600
	minTokenSeconds     = 600
)

// handleTokenRequest issues a service account token
// (POST serviceaccounts/<name>/token with a TokenRequest).
func (s *Server) handleTokenRequest(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) error {
	keys := s.cfg.ServiceAccountTokens
	if keys == nil {
		return errNotServedYet(rs.gr, "token", info.Name)
	}
	var opts metav1.CreateOptions
	validation, data, err := s.readWrite(r, &opts, &opts.DryRun)
	if err != nil {
		return err
	}
	gvk := authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
	obj, warnings, err := s.codecs.decodeObject(data, contentType(r), gvk, &authenticationv1.TokenRequest{}, validation)
	if err != nil {
		return err
	}
	tr := obj.(*authenticationv1.TokenRequest)
	if err := validateTokenRequest(tr); err != nil {
		return errInvalid(gvk.GroupKind(), info.Name, fieldErr(err))
	}
	saObj, _, err := rs.get(r.Context(), info.Namespace, info.Name)
	if err != nil {
		return err
	}
	sa := saObj.(*corev1.ServiceAccount)
	now := s.cfg.Clock.Now()
	claims := serviceaccount.Claims{
		Namespace: sa.Namespace, ServiceAccount: serviceaccount.Ref{Name: sa.Name, UID: string(sa.UID)},
		Audience: tr.Spec.Audiences, IssuedAt: now,
		Expiry: now.Add(time.Duration(*tr.Spec.ExpirationSeconds) * time.Second),
	}
	if len(claims.Audience) == 0 {
		claims.Audience = keys.Audiences()
	}
	if err := s.bindToken(r.Context(), &claims, sa.Namespace, tr.Spec.BoundObjectRef); err != nil {
		return err
	}
	token, err := keys.Sign(claims)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	out := &authenticationv1.TokenRequest{
		TypeMeta:   metav1.TypeMeta{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: sa.Name, Namespace: sa.Namespace, CreationTimestamp: metav1.NewTime(now.Truncate(time.Second))},
		Spec:       tr.Spec,
		Status:     authenticationv1.TokenRequestStatus{Token: token, ExpirationTimestamp: metav1.NewTime(claims.Expiry)},
	}
	out.Spec.Audiences = claims.Audience
	addWarnings(w, warnings)
	s.resp.writeObject(w, r, http.StatusCreated, out)
	return nil
}

// validateTokenRequest defaults and checks the spec.
func validateTokenRequest(tr *authenticationv1.TokenRequest) *field.Error {
	p := field.NewPath("spec")
	if tr.Spec.ExpirationSeconds == nil {
		d := int64(defaultTokenSeconds)
		tr.Spec.ExpirationSeconds = &d
	}
	if *tr.Spec.ExpirationSeconds < minTokenSeconds {
		return field.Invalid(p.Child("expirationSeconds"), *tr.Spec.ExpirationSeconds, "may not specify a duration less than 10 minutes")
	}
	if *tr.Spec.ExpirationSeconds > 1<<32 {
		return field.TooLong(p.Child("expirationSeconds"), *tr.Spec.ExpirationSeconds, 1<<32)
	}
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		switch {
		case ref.Kind != "Pod" && ref.Kind != "Secret" && ref.Kind != "Node":
			return field.NotSupported(p.Child("boundObjectRef", "kind"), ref.Kind, []string{"Pod", "Secret", "Node"})
		case ref.APIVersion != "" && ref.APIVersion != "v1":
			return field.Invalid(p.Child("boundObjectRef", "apiVersion"), ref.APIVersion, `must be "v1"`)
		case ref.Name == "":
			return field.Required(p.Child("boundObjectRef", "name"), "")
		}
	}
	return nil
}

// bindToken records in claims the object the token is bound to, which
// must exist (with the given UID, if any); a pod binding names its node
// too.
func (s *Server) bindToken(ctx context.Context, claims *serviceaccount.Claims, namespace string, ref *authenticationv1.BoundObjectReference) error {
	if ref == nil {
		return nil
	}
	resource := map[string]string{"Pod": "pods", "Secret": "secrets", "Node": "nodes"}[ref.Kind]
	ns := namespace
	if ref.Kind == "Node" {
		ns = ""
	}
	obj, err := s.lookupObject(ctx, schema.GroupVersionResource{Version: "v1", Resource: resource}, ns, ref.Name)
	if err != nil {
		return err
	}
	if obj == nil {
		return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, ref.Name)
	}
	m := objectMeta(obj)
	if ref.UID != "" && ref.UID != m.GetUID() {
		return apierrors.NewConflict(schema.GroupResource{Resource: resource}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record (%s); the object might have been deleted and then recreated", ref.UID, m.GetUID()))
	}
	bound := &serviceaccount.Ref{Name: m.GetName(), UID: string(m.GetUID())}
	switch ref.Kind {
	case "Pod":
		claims.Pod = bound
		if node := obj.(*corev1.Pod).Spec.NodeName; node != "" {
			claims.Node = &serviceaccount.Ref{Name: node}
			if n, err := s.lookupObject(ctx, schema.GroupVersionResource{Version: "v1", Resource: "nodes"}, "", node); err == nil && n != nil {
				claims.Node.UID = string(objectMeta(n).GetUID())
			}
		}
	case "Secret":
		claims.Secret = bound
	case "Node":
		claims.Node = bound
	}
	return nil
}
