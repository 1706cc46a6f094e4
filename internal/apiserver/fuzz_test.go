package apiserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The fuzz targets of the request decoding paths: whatever a client sends,
// the server answers with a Status error, never a panic.

// fuzzKind is one kind a body may be decoded into.
type fuzzKind struct {
	gvk       schema.GroupVersionKind
	newObject func() runtime.Object
}

// fuzzKinds are indexed by the fuzzer's kind selector.
func fuzzKinds() []fuzzKind {
	return []fuzzKind{
		{schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, func() runtime.Object { return &corev1.Pod{} }},
		{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, func() runtime.Object { return &appsv1.Deployment{} }},
	}
}

// fuzzValidations are indexed by the fuzzer's validation selector.
var fuzzValidations = [...]string{metav1.FieldValidationStrict, metav1.FieldValidationWarn, metav1.FieldValidationIgnore}

// checkStatusError fails unless err is a StatusError with one of codes.
func checkStatusError(t *testing.T, err error, codes ...int32) {
	t.Helper()
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		t.Fatalf("error %T %q is not an API status", err, err)
	}
	code := status.Status().Code
	for _, c := range codes {
		if code == c {
			return
		}
	}
	t.Fatalf("error code %d (%q), want one of %v", code, err, codes)
}

func newFuzzCodecs(f *testing.F) *codecs {
	f.Helper()
	c, err := newCodecs()
	if err != nil {
		f.Fatalf("newCodecs: %v", err)
	}
	return c
}

// addDecodeSeeds seeds FuzzDecodeObject with valid and invalid bodies.
func addDecodeSeeds(f *testing.F) {
	jsonSeeds := []string{
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}]}]}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":3,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}`,
		`{"metadata":{"name":"no-type-meta"}}`,
		`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"not-a-quantity"}}}]}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"dup"},"bogus":1}`,
		`{"apiVersion":"apps/v1","kind":"Pod"}`,
		`{"apiVersion":"v2","kind":"Pod"}`,
		`{"apiVersion":"v1","kind":"Status"}`,
		`{"apiVersion":"v1","kind":"Pod","spec":{"containers":"wrong type"}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"creationTimestamp":"yesterday"}}`,
		`{"apiVersion":"v1","kind":"Pod","spec":{"priority":1e400}}`,
		`null`, `[]`, `"pod"`, `{`, ``, "   \n", `{"apiVersion":1,"kind":{}}`,
	}
	yamlSeeds := []string{
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n",
		"apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\n",
		"a: &a [*a]\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: !!binary aGk=}\n",
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
		"\t- not yaml",
		"? [a, b]\n: c\n",
	}
	for i, s := range jsonSeeds {
		f.Add([]byte(s), uint8(0), uint8(i%2), uint8(i%3))
	}
	for i, s := range yamlSeeds {
		f.Add([]byte(s), uint8(1), uint8(i%2), uint8(i%3))
	}
	f.Add([]byte(jsonSeeds[0]), uint8(2), uint8(0), uint8(0)) // protobuf media type
	f.Add([]byte(jsonSeeds[0]), uint8(3), uint8(0), uint8(0)) // unknown media type
}

// FuzzDecodeObject decodes random bodies as JSON, YAML, protobuf or an
// unknown media type into a Pod and a Deployment.
func FuzzDecodeObject(f *testing.F) {
	c := newFuzzCodecs(f)
	kinds := fuzzKinds()
	mediaTypes := [...]string{mediaJSON, mediaYAML, mediaProtobuf, "text/plain"}
	addDecodeSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, media, kind, validation uint8) {
		k := kinds[int(kind)%len(kinds)]
		mt := mediaTypes[int(media)%len(mediaTypes)]
		obj, _, err := c.decodeObject(data, mt, k.gvk, k.newObject(), fuzzValidations[int(validation)%len(fuzzValidations)])
		if err != nil {
			checkStatusError(t, err, http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity)
			return
		}
		if reflect.TypeOf(obj) != reflect.TypeOf(k.newObject()) {
			t.Fatalf("decoded a %T, want %T", obj, k.newObject())
		}
		if got := obj.GetObjectKind().GroupVersionKind(); got != k.gvk {
			t.Fatalf("decoded kind %v, want %v", got, k.gvk)
		}
	})
}

// fuzzSamplePod is the live object patches are applied to.
func fuzzSamplePod() *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "default", ResourceVersion: "42",
			Labels:      map[string]string{"app": "web", "tier": "front"},
			Annotations: map[string]string{"note": "sample"},
			Finalizers:  []string{"example.com/keep"},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "app", Image: "nginx:1.27",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP}},
				Env:   []corev1.EnvVar{{Name: "MODE", Value: "prod"}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
				},
			}, {Name: "sidecar", Image: "busybox"}},
			Tolerations: []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}},
		},
	}
}

// patchTypes are indexed by the fuzzer's patch type selector.
var patchTypes = [...]string{mediaJSONPatch, mediaMergePatch, mediaStrategicPatch}

// addPatchSeeds seeds FuzzApplyPatch with patches of each type.
func addPatchSeeds(f *testing.F) {
	seeds := []struct {
		typ   uint8
		patch string
	}{
		{0, `[{"op":"replace","path":"/metadata/labels/app","value":"api"}]`},
		{0, `[{"op":"add","path":"/spec/containers/-","value":{"name":"x","image":"y"}}]`},
		{0, `[{"op":"remove","path":"/spec/containers/5"}]`},
		{0, `[{"op":"test","path":"/metadata/name","value":"other"}]`},
		{0, `[{"op":"move","from":"/metadata/labels","path":"/metadata/labels/app"}]`},
		{0, `[{"op":"copy","from":"/spec","path":"/spec/containers/0/env"}]`},
		{0, `[{"op":"add","path":"/spec/containers/-1","value":{}}]`},
		{0, `[{"op":"replace","path":"/kind","value":"Service"}]`},
		{0, `[{"op":"bogus"}]`},
		{0, `{"op":"add"}`},
		{1, `{"metadata":{"labels":{"app":null,"new":"v"}}}`},
		{1, `{"spec":{"containers":[{"name":"only","image":"i"}]}}`},
		{1, `{"spec":null}`},
		{1, `{"apiVersion":"apps/v1"}`},
		{1, `[1,2]`},
		{1, `{"metadata":{"name":7}}`},
		{2, `{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}`},
		{2, `{"spec":{"containers":[{"$patch":"delete","name":"sidecar"}]}}`},
		{2, `{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/keep"]}}`},
		{2, `{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}]}}`},
		{2, `{"spec":{"containers":[{"name":"app","env":[{"name":"MODE","$patch":"replace"}]}]}}`},
		{2, `{"$patch":"replace","spec":{}}`},
		{2, `{"$retainKeys":["spec"],"spec":{"$retainKeys":"x"}}`},
		{2, `{"spec":{"containers":[{"$patch":"delete"}]}}`},
		{2, `{"spec":{"volumes":[{"name":"v","$patch":"merge"}]}}`},
		{2, `{"spec":{"containers":{"name":"app"}}}`},
		{2, `not json`},
		{3, `{}`},
	}
	for i, s := range seeds {
		f.Add([]byte(s.patch), s.typ, uint8(i%3))
	}
}

// FuzzApplyPatch applies random JSON, merge and strategic merge patches to a
// sample Pod.
func FuzzApplyPatch(f *testing.F) {
	c := newFuzzCodecs(f)
	addPatchSeeds(f)
	podGVK := schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	f.Fuzz(func(t *testing.T, patch []byte, typ, validation uint8) {
		pt := "application/unknown-patch"
		if int(typ) < len(patchTypes) {
			pt = patchTypes[typ]
		}
		p := &patcher{
			codecs: c, gvk: podGVK, newObject: func() runtime.Object { return &corev1.Pod{} },
			patchType: pt, patch: patch, validation: fuzzValidations[int(validation)%len(fuzzValidations)],
		}
		live := fuzzSamplePod()
		before, err := json.Marshal(live)
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.applyTo(live)
		if after, _ := json.Marshal(live); string(after) != string(before) {
			t.Fatalf("applyTo changed the live object:\n%s\n%s", before, after)
		}
		if err != nil {
			checkStatusError(t, err, http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity)
			return
		}
		if _, ok := out.(*corev1.Pod); !ok {
			t.Fatalf("patched object is a %T, want *v1.Pod", out)
		}
	})
}

// FuzzParseAccept parses random Accept headers.
func FuzzParseAccept(f *testing.F) {
	for _, s := range []string{
		"", "*/*", "application/json", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
		"application/vnd.kubernetes.protobuf, application/json;q=0.9", "application/yaml; charset=utf-8",
		";;;", "a/b;c", "text/html; q=\"", ",,,", "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		for _, m := range parseAccept(header) {
			if m.mediaType == "" {
				t.Fatalf("parseAccept(%q) returned an empty media type", header)
			}
			_ = m.as()
		}
	})
}

// FuzzParseRequestInfo classifies random methods, paths and queries.
func FuzzParseRequestInfo(f *testing.F) {
	for _, s := range []struct{ method, path, query string }{
		{"GET", "/api/v1/namespaces/ns/pods", "watch=1"},
		{"GET", "/apis/apps/v1/watch/namespaces/ns/deployments/d", ""},
		{"PATCH", "/apis/apps/v1/namespaces/ns/deployments/d/scale", ""},
		{"DELETE", "/api/v1/namespaces/ns", ""},
		{"PUT", "/api/v1/namespaces/ns/finalize", ""},
		{"POST", "/api/v1/namespaces/ns/pods/p/binding/extra/parts", ""},
		{"GET", "//api//v1///pods", "watch=%zz"},
		{"OPTIONS", "/apis", ""},
		{"", "", ""},
		{"GET", "/api/v1/watch", "watch=true&watch=false"},
	} {
		f.Add(s.method, s.path, s.query)
	}
	f.Fuzz(func(t *testing.T, method, path, query string) {
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}}
		info := parseRequestInfo(r)
		if info.Path != path {
			t.Fatalf("Path = %q, want %q", info.Path, path)
		}
		if info.IsResource && info.APIPrefix == "" {
			t.Fatalf("resource request without an API prefix: %+v", info)
		}
		if method != "" && info.Verb == "" {
			t.Fatalf("no verb for method %q: %+v", method, info)
		}
	})
}
