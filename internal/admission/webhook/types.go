package webhook

import (
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Attributes describe one admission request.
type Attributes struct {
	// Operation is CREATE, UPDATE, DELETE or CONNECT.
	Operation admissionv1.Operation
	// Kind of Object (or OldObject on a delete).
	Kind schema.GroupVersionKind
	// Resource and Subresource requested.
	Resource    schema.GroupVersionResource
	Subresource string
	// Namespace and Name of the object; Namespace is empty for
	// cluster-scoped objects.
	Namespace, Name string
	// Object is the new object (nil on delete); OldObject the stored one
	// (nil on create).
	Object, OldObject runtime.Object
	// Options are the request's Create/Update/DeleteOptions, or nil.
	Options runtime.Object
	// DryRun marks a request that persists nothing.
	DryRun bool
	// UserInfo is the requesting user.
	UserInfo authenticationv1.UserInfo
}

// Result is what webhooks said besides allowing or denying.
type Result struct {
	// Warnings to return to the client.
	Warnings []string
	// AuditAnnotations, keyed "<webhook name>/<key>".
	AuditAnnotations map[string]string
}

func (r *Result) add(name string, resp *admissionv1.AdmissionResponse) {
	r.Warnings = append(r.Warnings, resp.Warnings...)
	for k, v := range resp.AuditAnnotations {
		if r.AuditAnnotations == nil {
			r.AuditAnnotations = map[string]string{}
		}
		r.AuditAnnotations[name+"/"+k] = v
	}
}
