package apiserver

import (
	"context"
	"fmt"
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
	"github.com/skiffkube/skiff/internal/auth"
	"github.com/skiffkube/skiff/internal/auth/rbac"
)

// serveReview answers a POST of a token or access review: nothing is
// stored, the status is computed and the object returned with 201.
func (s *Server) serveReview(w http.ResponseWriter, r *http.Request, res registry.Resource, info requestInfo) {
	if err := s.review(w, r, res, info); err != nil {
		s.resp.writeError(w, r, err)
	}
}

func (s *Server) review(w http.ResponseWriter, r *http.Request, res registry.Resource, info requestInfo) error {
	if info.Verb != "create" || info.Name != "" || info.Subresource != "" {
		return apierrors.NewMethodNotSupported(res.GroupResource(), r.Method)
	}
	if res.Namespaced && info.Namespace == "" {
		return apierrors.NewBadRequest("namespace is required on this type")
	}
	var opts metav1.CreateOptions
	validation, data, err := s.readWrite(r, &opts, &opts.DryRun)
	if err != nil {
		return err
	}
	obj, warnings, err := s.codecs.decodeObject(data, contentType(r), res.GroupVersionKind(), res.New(), validation)
	if err != nil {
		return err
	}
	user, _ := auth.UserFrom(r.Context())
	switch o := obj.(type) {
	case *authenticationv1.TokenReview:
		err = s.reviewToken(r.Context(), o)
	case *authenticationv1.SelfSubjectReview:
		o.Status.UserInfo = userInfo(user)
	case *authorizationv1.SubjectAccessReview:
		err = s.reviewSubjectAccess(r.Context(), o)
	case *authorizationv1.SelfSubjectAccessReview:
		err = s.reviewSelfAccess(r.Context(), user, o)
	case *authorizationv1.LocalSubjectAccessReview:
		err = s.reviewLocalAccess(r.Context(), info.Namespace, o)
	case *authorizationv1.SelfSubjectRulesReview:
		s.reviewRules(user, o)
	default:
		err = apierrors.NewInternalError(fmt.Errorf("no review handler for %T", obj))
	}
	if err != nil {
		return err
	}
	obj.GetObjectKind().SetGroupVersionKind(res.GroupVersionKind())
	addWarnings(w, warnings)
	s.resp.writeObject(w, r, http.StatusCreated, obj)
	return nil
}

// userInfo is the review form of a user.
func userInfo(u *auth.User) authenticationv1.UserInfo {
	if u == nil {
		return authenticationv1.UserInfo{}
	}
	info := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		info.Extra = map[string]authenticationv1.ExtraValue{}
		for k, v := range u.Extra {
			info.Extra[k] = v
		}
	}
	return info
}

// reviewToken authenticates spec.token: service account and bootstrap
// tokens for spec.audiences, other tokens (the static token file) when no
// audiences were asked for.
func (s *Server) reviewToken(ctx context.Context, tr *authenticationv1.TokenReview) error {
	if tr.Spec.Token == "" {
		return errInvalid(tr.GroupVersionKind().GroupKind(), tr.Name, fieldErr(field.Required(field.NewPath("spec", "token"), "")))
	}
	tr.Status = authenticationv1.TokenReviewStatus{}
	u, auds, ok, err := s.tokens.AuthenticateToken(ctx, tr.Spec.Token, tr.Spec.Audiences)
	if !ok && err == nil && len(tr.Spec.Audiences) == 0 && s.cfg.Authenticator != nil {
		req, rerr := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
		if rerr != nil {
			return apierrors.NewInternalError(rerr)
		}
		req.Header.Set("Authorization", "Bearer "+tr.Spec.Token)
		u, ok, err = s.cfg.Authenticator.Authenticate(req)
	}
	if !ok || u == nil {
		if err != nil {
			tr.Status.Error = err.Error()
		}
		return nil
	}
	tr.Status.Authenticated = true
	tr.Status.User = userInfo(u)
	tr.Status.Audiences = auds
	return nil
}

// accessAttributes turns review attributes into authorizer attributes.
func accessAttributes(user *auth.User, ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) auth.Attributes {
	a := auth.Attributes{User: user}
	if ra != nil {
		a.ResourceRequest = true
		a.Verb, a.Namespace, a.APIGroup, a.APIVersion = ra.Verb, ra.Namespace, ra.Group, ra.Version
		a.Resource, a.Subresource, a.Name = ra.Resource, ra.Subresource, ra.Name
		return a
	}
	if nra != nil {
		a.Verb, a.Path = nra.Verb, nra.Path
	}
	return a
}

// checkAccessSpec validates the attributes of an access review.
func checkAccessSpec(ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) *field.Error {
	p := field.NewPath("spec")
	switch {
	case ra == nil && nra == nil:
		return field.Required(p.Child("resourceAttributes"), "exactly one of nonResourceAttributes or resourceAttributes must be specified")
	case ra != nil && nra != nil:
		return field.Invalid(p.Child("nonResourceAttributes"), nra, "cannot be specified in combination with resourceAttributes")
	}
	return nil
}

// decide runs the authorizer on a and fills status.
func (s *Server) decide(ctx context.Context, a auth.Attributes, status *authorizationv1.SubjectAccessReviewStatus) {
	d, reason, err := s.authorizer.Authorize(ctx, a)
	*status = authorizationv1.SubjectAccessReviewStatus{Allowed: d == auth.DecisionAllow, Denied: d == auth.DecisionDeny, Reason: reason}
	if err != nil {
		status.EvaluationError = err.Error()
	}
}

func (s *Server) reviewSubjectAccess(ctx context.Context, sar *authorizationv1.SubjectAccessReview) error {
	gk := authorizationv1.SchemeGroupVersion.WithKind("SubjectAccessReview").GroupKind()
	if fe := checkAccessSpec(sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes); fe != nil {
		return errInvalid(gk, sar.Name, fieldErr(fe))
	}
	if sar.Spec.User == "" && len(sar.Spec.Groups) == 0 {
		return errInvalid(gk, sar.Name, fieldErr(field.Invalid(field.NewPath("spec", "user"), sar.Spec.User, "at least one of user or group must be specified")))
	}
	u := &auth.User{Name: sar.Spec.User, UID: sar.Spec.UID, Groups: sar.Spec.Groups}
	if len(sar.Spec.Extra) > 0 {
		u.Extra = map[string][]string{}
		for k, v := range sar.Spec.Extra {
			u.Extra[k] = v
		}
	}
	s.decide(ctx, accessAttributes(u, sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes), &sar.Status)
	return nil
}

func (s *Server) reviewSelfAccess(ctx context.Context, user *auth.User, r *authorizationv1.SelfSubjectAccessReview) error {
	gk := authorizationv1.SchemeGroupVersion.WithKind("SelfSubjectAccessReview").GroupKind()
	if fe := checkAccessSpec(r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes); fe != nil {
		return errInvalid(gk, r.Name, fieldErr(fe))
	}
	s.decide(ctx, accessAttributes(user, r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes), &r.Status)
	return nil
}

func (s *Server) reviewLocalAccess(ctx context.Context, namespace string, r *authorizationv1.LocalSubjectAccessReview) error {
	gk := authorizationv1.SchemeGroupVersion.WithKind("LocalSubjectAccessReview").GroupKind()
	if r.Spec.ResourceAttributes == nil {
		return errInvalid(gk, r.Name, fieldErr(field.Required(field.NewPath("spec", "resourceAttributes"), "")))
	}
	if r.Spec.NonResourceAttributes != nil {
		return errInvalid(gk, r.Name, fieldErr(field.Invalid(field.NewPath("spec", "nonResourceAttributes"), r.Spec.NonResourceAttributes, "disallowed on this kind of request")))
	}
	if r.Spec.ResourceAttributes.Namespace == "" {
		r.Spec.ResourceAttributes.Namespace = namespace
	}
	if r.Spec.ResourceAttributes.Namespace != namespace {
		return apierrors.NewBadRequest(fmt.Sprintf("spec.resourceAttributes.namespace must match namespace: %v", namespace))
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: r.Spec}
	if err := s.reviewSubjectAccess(ctx, sar); err != nil {
		return err
	}
	r.Status = sar.Status
	return nil
}

// reviewRules lists what user may do in spec.namespace.
func (s *Server) reviewRules(user *auth.User, r *authorizationv1.SelfSubjectRulesReview) {
	var resource, nonResource []rbacv1.PolicyRule
	r.Status = authorizationv1.SubjectRulesReviewStatus{}
	switch {
	case s.rbac != nil:
		resource, nonResource = rbac.Masters{}.RulesFor(user)
		res, non, incomplete, err := s.rbac.RulesFor(user, r.Spec.Namespace)
		resource, nonResource = append(resource, res...), append(nonResource, non...)
		r.Status.Incomplete = incomplete
		if err != nil {
			r.Status.EvaluationError = err.Error()
		}
		if s.cfg.Authorizer != nil {
			// Rules of other authorizers (the Node authorizer) are not
			// listed: the answer may miss some.
			r.Status.Incomplete = true
		}
	case isAlwaysAllow(s.authorizer):
		full := rbac.FullAuthority()
		resource, nonResource = full[:1], full[1:]
	default:
		r.Status.Incomplete = true
		r.Status.EvaluationError = "the authorizer cannot list rules"
	}
	r.Status.ResourceRules = []authorizationv1.ResourceRule{}
	for _, p := range resource {
		r.Status.ResourceRules = append(r.Status.ResourceRules, authorizationv1.ResourceRule{
			Verbs: p.Verbs, APIGroups: p.APIGroups, Resources: p.Resources, ResourceNames: p.ResourceNames})
	}
	r.Status.NonResourceRules = []authorizationv1.NonResourceRule{}
	for _, p := range nonResource {
		r.Status.NonResourceRules = append(r.Status.NonResourceRules, authorizationv1.NonResourceRule{Verbs: p.Verbs, NonResourceURLs: p.NonResourceURLs})
	}
}

func isAlwaysAllow(z auth.Authorizer) bool {
	_, ok := z.(auth.AlwaysAllow)
	return ok
}
