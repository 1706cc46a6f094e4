package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
)

// SARConfig configures a SARAuthorizer.
type SARConfig struct {
	// Reviews creates SubjectAccessReviews in the API server (a
	// clientset's AuthorizationV1().SubjectAccessReviews()). The
	// client's identity must be allowed to create them.
	Reviews authorizationclient.SubjectAccessReviewInterface
	// AllowTTL and DenyTTL are how long allowed (5m) and denied (30s)
	// answers are remembered.
	AllowTTL, DenyTTL time.Duration
	// MaxEntries bounds the remembered answers (1024).
	MaxEntries int
	// Now is the clock (time.Now).
	Now func() time.Time
}

// SARAuthorizer delegates decisions to the API server with
// SubjectAccessReviews on nodes/<subresource>, as upstream's kubelet does
// in Webhook authorization mode, and remembers the answers for a while.
type SARAuthorizer struct {
	cfg SARConfig
	// mu guards cache.
	mu    sync.Mutex
	cache *decisionCache
}

var _ Authorizer = (*SARAuthorizer)(nil)

// NewSARAuthorizer checks cfg and fills its defaults.
func NewSARAuthorizer(cfg SARConfig) (*SARAuthorizer, error) {
	if cfg.Reviews == nil {
		return nil, errors.New("agent authorizer: a SubjectAccessReview client is required")
	}
	if cfg.AllowTTL <= 0 {
		cfg.AllowTTL = 5 * time.Minute
	}
	if cfg.DenyTTL <= 0 {
		cfg.DenyTTL = 30 * time.Second
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 1024
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &SARAuthorizer{cfg: cfg, cache: newDecisionCache(cfg.MaxEntries)}, nil
}

// Authorize implements Authorizer: a remembered answer if one is fresh,
// else the API server's. Errors are not remembered.
func (z *SARAuthorizer) Authorize(ctx context.Context, user string, groups []string, attrs Attributes) (bool, string, error) {
	key := cacheKey(user, groups, attrs)
	now := z.cfg.Now()
	z.mu.Lock()
	d, ok := z.cache.get(key, now)
	z.mu.Unlock()
	if ok {
		return d.allowed, d.reason, nil
	}
	review, err := z.cfg.Reviews.Create(ctx, subjectAccessReview(user, groups, attrs), metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("SubjectAccessReview for %s: %w", user, err)
	}
	d = decision{allowed: review.Status.Allowed && !review.Status.Denied, reason: review.Status.Reason}
	if d.reason == "" && review.Status.EvaluationError != "" {
		d.reason = review.Status.EvaluationError
	}
	ttl := z.cfg.DenyTTL
	if d.allowed {
		ttl = z.cfg.AllowTTL
	}
	d.expires = now.Add(ttl)
	z.mu.Lock()
	z.cache.put(key, d)
	z.mu.Unlock()
	return d.allowed, d.reason, nil
}

// subjectAccessReview asks whether user may do attrs.Verb on the node's
// subresource.
func subjectAccessReview(user string, groups []string, attrs Attributes) *authorizationv1.SubjectAccessReview {
	return &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   user,
			Groups: slices.Clone(groups),
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: attrs.Verb, Version: "v1", Resource: "nodes", Subresource: attrs.Subresource, Name: attrs.Node,
			},
		},
	}
}

// cacheKey identifies a question: user, groups (in order) and attributes,
// each quoted so that no two questions share a key.
func cacheKey(user string, groups []string, attrs Attributes) string {
	var b strings.Builder
	for _, s := range []string{user, attrs.Verb, attrs.Subresource, attrs.Node} {
		b.WriteString(strconv.Quote(s))
	}
	for _, g := range groups {
		b.WriteString(strconv.Quote(g))
	}
	return b.String()
}
