package apiserver

import (
	"fmt"
	"mime"
	"net/url"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	serializerjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	kjson "sigs.k8s.io/json"
)

// Media types the server speaks.
const (
	mediaJSON     = "application/json"
	mediaYAML     = "application/yaml"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"

	mediaJSONPatch      = "application/json-patch+json"
	mediaMergePatch     = "application/merge-patch+json"
	mediaStrategicPatch = "application/strategic-merge-patch+json"
	mediaApplyPatch     = "application/apply-patch+yaml"
)

// codecs bundles the scheme and the serializers built on it.
type codecs struct {
	scheme  *runtime.Scheme
	factory serializer.CodecFactory
	// strict decoders report unknown and duplicate fields as
	// runtime.StrictDecodingError alongside the decoded object.
	strictJSON, strictYAML *serializerjson.Serializer
	// storage encodes objects for etcd (compact JSON).
	storage *serializerjson.Serializer
	// params decodes query parameters into option structs.
	params runtime.ParameterCodec
	// fields shares identical managed-fields sets of stored objects.
	fields *fieldsInterner
}

func newCodecs() (*codecs, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("building scheme: %w", err)
	}
	if err := apidiscoveryv2.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("building scheme: %w", err)
	}
	metav1.AddMetaToScheme(s)
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	c := &codecs{
		scheme: s,
		// Lists are encoded item by item straight to the response
		// (the same bytes as encoding the whole list at once), so a big
		// list never sits in memory a second time as one buffer.
		factory: serializer.NewCodecFactory(s,
			serializer.WithStreamingCollectionEncodingToJSON(),
			serializer.WithStreamingCollectionEncodingToProtobuf()),
		strictJSON: serializerjson.NewSerializerWithOptions(serializerjson.DefaultMetaFactory, s, s,
			serializerjson.SerializerOptions{Strict: true}),
		strictYAML: serializerjson.NewSerializerWithOptions(serializerjson.DefaultMetaFactory, s, s,
			serializerjson.SerializerOptions{Yaml: true, Strict: true}),
		storage: serializerjson.NewSerializerWithOptions(serializerjson.DefaultMetaFactory, s, s,
			serializerjson.SerializerOptions{}),
		params: runtime.NewParameterCodec(s),
		fields: newFieldsInterner(),
	}
	return c, nil
}

// mediaRequest is one parsed entry of an Accept header.
type mediaRequest struct {
	mediaType string
	params    map[string]string
}

// as returns the "as" conversion asked for (Table, PartialObjectMetadata,
// PartialObjectMetadataList, APIGroupDiscoveryList) or "".
func (m mediaRequest) as() string { return m.params["as"] }

// parseAccept splits an Accept header into media requests in order.
// Quality values are ignored: clients list their preference first.
func parseAccept(header string) []mediaRequest {
	if header == "" {
		return []mediaRequest{{mediaType: "*/*"}}
	}
	var out []mediaRequest
	for _, part := range strings.Split(header, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		out = append(out, mediaRequest{mediaType: mt, params: params})
	}
	return out
}

// serializerFor returns the serializer of a concrete media type.
func (c *codecs) serializerFor(mediaType string, pretty bool) (runtime.SerializerInfo, bool) {
	for _, info := range c.factory.SupportedMediaTypes() {
		if info.MediaType == mediaType {
			if pretty && info.PrettySerializer != nil {
				info.Serializer = info.PrettySerializer
			}
			return info, true
		}
	}
	return runtime.SerializerInfo{}, false
}

// decodeStored decodes a value written by resourceStore.encode into
// into. Stored values name their own apiVersion and kind, so the common
// case skips the serializer's separate pass that reads them: the value is
// unmarshalled directly (as the serializer would) and its kind checked.
// Anything unexpected takes the serializer's general path into a fresh
// object from newObj.
func (c *codecs) decodeStored(data []byte, gvk schema.GroupVersionKind, into runtime.Object, newObj func() runtime.Object) (runtime.Object, error) {
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, into); err == nil && into.GetObjectKind().GroupVersionKind() == gvk {
		return into, nil
	}
	obj := newObj()
	if _, _, err := c.storage.Decode(data, &gvk, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// decodeStrictJSON is the common case of a JSON request body: it names
// the expected apiVersion and kind and has no unknown or duplicate
// fields. It unmarshals data into into as the strict serializer would and
// reports false when the body is anything else, for the caller to take
// the serializer's general path (into is then spoiled).
func decodeStrictJSON(data []byte, gvk schema.GroupVersionKind, into runtime.Object) bool {
	strictErrs, err := kjson.UnmarshalStrict(data, into)
	return err == nil && len(strictErrs) == 0 && into.GetObjectKind().GroupVersionKind() == gvk
}

// decodeParams fills an options struct (ListOptions, CreateOptions, ...)
// from query parameters.
func (c *codecs) decodeParams(q url.Values, into runtime.Object) error {
	return c.params.DecodeParameters(q, schema.GroupVersion{Version: "v1"}, into)
}
