package apiserver

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

// TestDecodeFastPaths checks that the direct decoding of request bodies
// and stored values gives what the serializers' general path gives.
func TestDecodeFastPaths(t *testing.T) {
	c, err := newCodecs()
	if err != nil {
		t.Fatal(err)
	}
	gvk := corev1.SchemeGroupVersion.WithKind("Pod")
	newPod := func() runtime.Object {
		p := &corev1.Pod{}
		p.SetGroupVersionKind(gvk)
		return p
	}
	bodies := []struct{ name, body string }{
		{"plain", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","labels":{"x":"y"}},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}]}]}}`},
		{"no apiVersion and kind", `{"metadata":{"name":"a"}}`},
		{"unknown field", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"bogus":1}`},
		{"duplicate field", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"}}`},
		{"wrong kind", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"}}`},
		{"wrong version", `{"apiVersion":"v2","kind":"Pod","metadata":{"name":"a"}}`},
		{"case-insensitive key", `{"apiVersion":"v1","kind":"Pod","Metadata":{"name":"a"}}`},
		{"malformed", `{"apiVersion":"v1","kind":"Pod",`},
		{"large integer", `{"apiVersion":"v1","kind":"Pod","spec":{"activeDeadlineSeconds":9007199254740993}}`},
	}
	for _, b := range bodies {
		for _, validation := range []string{metav1.FieldValidationStrict, metav1.FieldValidationWarn, metav1.FieldValidationIgnore} {
			t.Run(b.name+"/"+validation, func(t *testing.T) {
				got, gotWarn, gotErr := c.decodeObject([]byte(b.body), mediaJSON, gvk, newPod(), validation)
				want, wantWarn, wantErr := c.decodeBody([]byte(b.body), mediaJSON, gvk, newPod(), validation, false)
				if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
					t.Fatalf("error %v, want %v", gotErr, wantErr)
				}
				if len(gotWarn) != len(wantWarn) {
					t.Errorf("warnings %q, want %q", gotWarn, wantWarn)
				}
				if gotErr == nil && !equality.Semantic.DeepEqual(got, want) {
					t.Errorf("decoded %+v, want %+v", got, want)
				}
			})
		}
		t.Run(b.name+"/stored", func(t *testing.T) {
			got, gotErr := c.decodeStored([]byte(b.body), gvk, &corev1.Pod{}, newPod)
			want := newPod()
			_, _, wantErr := c.storage.Decode([]byte(b.body), &gvk, want)
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("error %v, want %v", gotErr, wantErr)
			}
			if gotErr == nil && !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("decoded %+v, want %+v", got, want)
			}
		})
	}
}

// TestStreamedListsUnchanged checks that lists, which the server encodes
// item by item, come out byte for byte as encoding the whole list would.
func TestStreamedListsUnchanged(t *testing.T) {
	c, err := newCodecs()
	if err != nil {
		t.Fatal(err)
	}
	whole := serializer.NewCodecFactory(c.scheme)
	pod := func(name string) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"a": "<b>&"}}}
		p.Spec.Containers = []corev1.Container{{Name: "c", Image: "i", Args: []string{"ünïcode", "\u2028"}}}
		return p
	}
	lists := map[string]*corev1.PodList{
		"empty": {Items: []corev1.Pod{}},
		"nil":   {},
		"three": {ListMeta: metav1.ListMeta{ResourceVersion: "7", Continue: "x"}, Items: []corev1.Pod{pod("a"), pod("b"), pod("c")}},
	}
	for name, list := range lists {
		list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
		for _, mt := range []string{mediaJSON, mediaProtobuf} {
			t.Run(name+"/"+mt, func(t *testing.T) {
				streamed, _ := c.serializerFor(mt, false)
				var reference runtime.Serializer
				for _, info := range whole.SupportedMediaTypes() {
					if info.MediaType == mt {
						reference = info.Serializer
					}
				}
				var got, want bytes.Buffer
				if err := streamed.Serializer.Encode(list, &got); err != nil {
					t.Fatal(err)
				}
				if err := reference.Encode(list, &want); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("streamed list differs:\n got %q\nwant %q", got.Bytes(), want.Bytes())
				}
			})
		}
	}
}
