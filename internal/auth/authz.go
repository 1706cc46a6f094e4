package auth

import (
	"context"
	"errors"
	"fmt"
)

// Attributes describe the request an Authorizer judges.
type Attributes struct {
	// User is who makes the request.
	User *User
	// Verb is the API verb for resource requests (get, list, watch, create,
	// update, patch, delete, deletecollection) or the lower-case HTTP method
	// for other requests.
	Verb string
	// Namespace, APIGroup, APIVersion, Resource, Subresource and Name
	// identify the object of a resource request; empty for others.
	Namespace   string
	APIGroup    string
	APIVersion  string
	Resource    string
	Subresource string
	Name        string
	// Path is the request URL path.
	Path string
	// ResourceRequest is true for requests to the resource API and false
	// for others (discovery, /healthz, /version, ...).
	ResourceRequest bool
}

// Decision is an Authorizer's verdict. The zero value denies.
type Decision int

const (
	// DecisionDeny refuses the request.
	DecisionDeny Decision = iota
	// DecisionAllow permits the request.
	DecisionAllow
	// DecisionNoOpinion leaves the decision to the next authorizer.
	DecisionNoOpinion
)

// String returns the decision's name.
func (d Decision) String() string {
	switch d {
	case DecisionDeny:
		return "Deny"
	case DecisionAllow:
		return "Allow"
	case DecisionNoOpinion:
		return "NoOpinion"
	default:
		return fmt.Sprintf("Decision(%d)", int(d))
	}
}

// Authorizer decides whether a request may proceed. The string is a reason
// shown to the user (for example in a 403 message); it may be empty.
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) (Decision, string, error)
}

// AlwaysAllow allows every request.
type AlwaysAllow struct{}

// Authorize implements Authorizer.
func (AlwaysAllow) Authorize(context.Context, Attributes) (Decision, string, error) {
	return DecisionAllow, "", nil
}

// AuthorizerUnion asks its authorizers in order: the first Allow or Deny
// decides. Errors are collected and returned with DecisionNoOpinion when no
// authorizer decided; a decision after an error still stands.
type AuthorizerUnion []Authorizer

// Authorize implements Authorizer.
func (u AuthorizerUnion) Authorize(ctx context.Context, a Attributes) (Decision, string, error) {
	var errs []error
	for _, z := range u {
		d, reason, err := z.Authorize(ctx, a)
		if err != nil {
			errs = append(errs, err)
		}
		if d == DecisionAllow || d == DecisionDeny && err == nil {
			return d, reason, nil
		}
	}
	return DecisionNoOpinion, "", errors.Join(errs...)
}
