package apiserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/apiserver/tables"
)

// responder writes objects in the representation the client accepts.
type responder struct {
	codecs *codecs
	now    func() metav1.Time
	tables *tables.Converter
	// buffers recycles the write buffers of list responses.
	buffers writerPool
}

// outputKind is what one Accept entry asks for.
type outputKind int

const (
	outputObject outputKind = iota
	outputTable
	outputPartialMetadata
)

// negotiated is the outcome of content negotiation for one response.
type negotiated struct {
	kind        outputKind
	info        runtime.SerializerInfo
	contentType string
	// tableVersion is "v1" or "v1beta1" for tables and partial metadata.
	metaVersion string
}

// negotiate picks the first acceptable representation.
func (rs *responder) negotiate(r *http.Request) (negotiated, error) {
	pretty := r.URL.Query().Get("pretty") == "true" || r.URL.Query().Get("pretty") == "1"
	for _, m := range parseAccept(r.Header.Get("Accept")) {
		mt := m.mediaType
		if mt == "*/*" || mt == "application/*" {
			mt = mediaJSON
		}
		info, ok := rs.codecs.serializerFor(mt, pretty)
		if !ok {
			continue
		}
		switch as := m.as(); as {
		case "":
			return negotiated{kind: outputObject, info: info, contentType: info.MediaType}, nil
		case "Table", "PartialObjectMetadata", "PartialObjectMetadataList":
			if m.params["g"] != metav1.GroupName || (m.params["v"] != "v1" && m.params["v"] != "v1beta1") {
				continue
			}
			// Partial metadata also comes in protobuf (the metadata
			// client's first choice); tables only in JSON and YAML.
			if mt != mediaJSON && mt != mediaYAML && (mt != mediaProtobuf || as == "Table") {
				continue
			}
			n := negotiated{kind: outputTable, info: info, metaVersion: m.params["v"],
				contentType: fmt.Sprintf("%s;as=%s;v=%s;g=%s", mt, as, m.params["v"], metav1.GroupName)}
			if as != "Table" {
				n.kind = outputPartialMetadata
			}
			return n, nil
		}
	}
	return negotiated{}, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "get", schema.GroupResource{}, "",
		fmt.Sprintf("only the following media types are accepted: %s", strings.Join(rs.mediaTypes(), ", ")), 0, false)
}

func (rs *responder) mediaTypes() []string {
	var out []string
	for _, info := range rs.codecs.factory.SupportedMediaTypes() {
		out = append(out, info.MediaType)
	}
	return out
}

// transform turns obj into what n asks for.
func (rs *responder) transform(obj runtime.Object, n negotiated, r *http.Request, noHeaders bool) (runtime.Object, error) {
	switch n.kind {
	case outputTable:
		opts := tables.Options{Now: rs.now().Time, NoHeaders: noHeaders, Kind: obj.GetObjectKind().GroupVersionKind()}
		if p := r.URL.Query().Get("includeObject"); p != "" {
			opts.IncludeObject = metav1.IncludeObjectPolicy(p)
		}
		t, err := rs.tables.Convert(obj, opts)
		if errors.Is(err, tables.ErrIncludeObject) {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		t.SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("Table"))
		if n.metaVersion == "v1beta1" {
			t.APIVersion = "meta.k8s.io/v1beta1"
		}
		return t, nil
	case outputPartialMetadata:
		return partialMetadata(obj, n.metaVersion)
	}
	return obj, nil
}

// partialMetadata strips objects down to their metadata.
func partialMetadata(obj runtime.Object, version string) (runtime.Object, error) {
	gv := schema.GroupVersion{Group: metav1.GroupName, Version: version}
	if meta.IsListType(obj) {
		items, err := meta.ExtractList(obj)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gv.WithKind("PartialObjectMetadataList"))
		if lm, err := meta.ListAccessor(obj); err == nil {
			list.ResourceVersion = lm.GetResourceVersion()
			list.Continue = lm.GetContinue()
			list.RemainingItemCount = lm.GetRemainingItemCount()
		}
		for _, item := range items {
			p := meta.AsPartialObjectMetadata(objectMeta(item))
			p.SetGroupVersionKind(gv.WithKind("PartialObjectMetadata"))
			list.Items = append(list.Items, *p)
		}
		return list, nil
	}
	m := objectMeta(obj)
	if m == nil {
		return nil, apierrors.NewBadRequest("object has no metadata")
	}
	p := meta.AsPartialObjectMetadata(m)
	p.SetGroupVersionKind(gv.WithKind("PartialObjectMetadata"))
	return p, nil
}

// writeObject negotiates and writes obj with the status code.
func (rs *responder) writeObject(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object) {
	n, err := rs.negotiate(r)
	if err != nil {
		rs.writeError(w, r, err)
		return
	}
	out, err := rs.transform(obj, n, r, false)
	if err != nil {
		rs.writeError(w, r, err)
		return
	}
	rs.write(w, code, n, out)
}

func (rs *responder) write(w http.ResponseWriter, code int, n negotiated, obj runtime.Object) {
	w.Header().Set("Content-Type", n.contentType)
	w.WriteHeader(code)
	out := io.Writer(w)
	if meta.IsListType(obj) {
		// Lists are streamed item by item: gather the small writes into
		// larger ones.
		bw := rs.buffers.get(w)
		defer rs.buffers.put(bw)
		out = bw
	}
	if err := n.info.Serializer.Encode(obj, out); err != nil {
		// Headers are gone; all we can do is end the body.
		fmt.Fprintf(out, "\nencoding error: %v\n", err)
	}
}

// listWriteBuffer is the size of the buffer list responses are written
// through.
const listWriteBuffer = 64 << 10

// writerPool recycles the buffered writers of list responses.
type writerPool struct{ pool sync.Pool }

func (p *writerPool) get(w io.Writer) *bufio.Writer {
	if bw, ok := p.pool.Get().(*bufio.Writer); ok {
		bw.Reset(w)
		return bw
	}
	return bufio.NewWriterSize(w, listWriteBuffer)
}

// put flushes bw and keeps it for another response.
func (p *writerPool) put(bw *bufio.Writer) {
	_ = bw.Flush() // a failed write means the client went away
	bw.Reset(nil)
	p.pool.Put(bw)
}

// writeError writes err as a metav1.Status in JSON (or the client's
// accepted serialization when it is a plain one).
func (rs *responder) writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := statusFor(err)
	info, _ := rs.codecs.serializerFor(mediaJSON, false)
	for _, m := range parseAccept(r.Header.Get("Accept")) {
		if m.as() != "" {
			continue
		}
		if i, ok := rs.codecs.serializerFor(m.mediaType, false); ok {
			info = i
			break
		}
	}
	if st.Code == http.StatusTooManyRequests || st.Code == http.StatusServiceUnavailable {
		if st.Details != nil && st.Details.RetryAfterSeconds > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(st.Details.RetryAfterSeconds))
		}
	}
	code := int(st.Code)
	if code == 0 {
		code = http.StatusInternalServerError
	}
	rs.write(w, code, negotiated{info: info, contentType: info.MediaType}, st)
}
