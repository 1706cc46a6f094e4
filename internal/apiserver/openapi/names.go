package openapi

import (
	"reflect"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// definitionName is the upstream name of a Go type's definition: the package
// path with its domain reversed and slashes turned into dots, then the type
// name ("k8s.io/api/core/v1".Pod → "io.k8s.api.core.v1.Pod").
func definitionName(t reflect.Type) string {
	pkg := t.PkgPath()
	first, rest, _ := strings.Cut(pkg, "/")
	labels := strings.Split(first, ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	name := strings.Join(labels, ".")
	if rest != "" {
		name += "." + strings.ReplaceAll(rest, "/", ".")
	}
	return name + "." + t.Name()
}

// groupVersionPrefix is the URL prefix of a group version, without the
// leading slash: "api/v1" for core, "apis/<group>/<version>" otherwise.
func groupVersionPrefix(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}

// operationGroupVersion is the group version as it appears in operation IDs:
// "CoreV1", "AppsV1", "RbacAuthorizationV1" (".k8s.io" suffix dropped, each
// dotted part capitalized).
func operationGroupVersion(gv schema.GroupVersion) string {
	group := strings.TrimSuffix(gv.Group, ".k8s.io")
	if group == "" {
		group = "core"
	}
	var b strings.Builder
	for _, part := range strings.Split(group, ".") {
		b.WriteString(capitalize(part))
	}
	b.WriteString(capitalize(gv.Version))
	return b.String()
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
