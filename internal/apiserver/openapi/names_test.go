package openapi

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestDefinitionName(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{corev1.Pod{}, "io.k8s.api.core.v1.Pod"},
		{appsv1.Deployment{}, "io.k8s.api.apps.v1.Deployment"},
		{metav1.ObjectMeta{}, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
		{resource.Quantity{}, "io.k8s.apimachinery.pkg.api.resource.Quantity"},
		{intstr.IntOrString{}, "io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
		{runtime.RawExtension{}, "io.k8s.apimachinery.pkg.runtime.RawExtension"},
	}
	for _, tt := range tests {
		if got := definitionName(reflect.TypeOf(tt.v)); got != tt.want {
			t.Errorf("definitionName(%T) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestOperationGroupVersion(t *testing.T) {
	tests := []struct {
		gv   schema.GroupVersion
		want string
	}{
		{schema.GroupVersion{Version: "v1"}, "CoreV1"},
		{schema.GroupVersion{Group: "apps", Version: "v1"}, "AppsV1"},
		{schema.GroupVersion{Group: "rbac.authorization.k8s.io", Version: "v1"}, "RbacAuthorizationV1"},
		{schema.GroupVersion{Group: "autoscaling", Version: "v2beta2"}, "AutoscalingV2beta2"},
		{schema.GroupVersion{Group: "example.com", Version: "v1"}, "ExampleComV1"},
	}
	for _, tt := range tests {
		if got := operationGroupVersion(tt.gv); got != tt.want {
			t.Errorf("operationGroupVersion(%v) = %q, want %q", tt.gv, got, tt.want)
		}
	}
	if got := tagOf(schema.GroupVersion{Group: "rbac.authorization.k8s.io", Version: "v1"}); got != "rbacAuthorization_v1" {
		t.Errorf("tagOf = %q", got)
	}
}
