package openapi

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
)

// Media types of the protobuf forms of the documents. Responses use the
// first spelling; requests may use either (clients still send the second).
const (
	MediaTypeV2Protobuf           = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
	MediaTypeV3Protobuf           = "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"
	mediaTypeV2ProtobufDeprecated = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	mediaTypeV3ProtobufDeprecated = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
)

// Paths served by the Handler.
const (
	PathV2 = "/openapi/v2"
	PathV3 = "/openapi/v3"
)

// Handler serves the OpenAPI documents. It is safe for concurrent use.
type Handler struct {
	v2 *served
	// v3 holds the group-version documents by discovery path ("api/v1").
	v3 map[string]*served
	// v3Discovery lists the group-version documents with their hashes.
	v3Discovery *served
	// now is the clock used for Expires headers.
	now func() time.Time
}

// served is one document in its JSON form; the protobuf form is made on
// first request, because few clients ask for it.
type served struct {
	encoded
	toProto   func([]byte) ([]byte, error)
	protoOnce sync.Once
	proto     []byte
	protoErr  error
}

func (s *served) protobuf() ([]byte, error) {
	s.protoOnce.Do(func() { s.proto, s.protoErr = s.toProto(s.json) })
	return s.proto, s.protoErr
}

// v3DiscoveryDoc is the body of GET /openapi/v3.
type v3DiscoveryDoc struct {
	Paths map[string]v3DiscoveryEntry `json:"paths"`
}

type v3DiscoveryEntry struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

// New builds the OpenAPI documents of resources. The documents are static:
// build them once per server.
func New(resources []registry.Resource) (*Handler, error) {
	docs, err := buildDocuments(resources)
	if err != nil {
		return nil, fmt.Errorf("build openapi documents: %w", err)
	}
	h := &Handler{v3: map[string]*served{}, now: time.Now}
	v2, err := encode(docs.v2)
	if err != nil {
		return nil, fmt.Errorf("encode openapi v2: %w", err)
	}
	h.v2 = &served{encoded: v2, toProto: v2Protobuf}
	disco := v3DiscoveryDoc{Paths: map[string]v3DiscoveryEntry{}}
	for _, key := range sortedKeys(docs.v3) {
		e, err := encode(docs.v3[key])
		if err != nil {
			return nil, fmt.Errorf("encode openapi v3 %s: %w", key, err)
		}
		h.v3[key] = &served{encoded: e, toProto: v3Protobuf}
		disco.Paths[key] = v3DiscoveryEntry{ServerRelativeURL: PathV3 + "/" + key + "?hash=" + e.hash}
	}
	d, err := encode(disco)
	if err != nil {
		return nil, fmt.Errorf("encode openapi v3 discovery: %w", err)
	}
	h.v3Discovery = &served{encoded: d}
	return h, nil
}

func v2Protobuf(b []byte) ([]byte, error) {
	doc, err := openapi_v2.ParseDocument(b)
	if err != nil {
		return nil, fmt.Errorf("parse openapi v2: %w", err)
	}
	return proto.Marshal(doc)
}

func v3Protobuf(b []byte) ([]byte, error) {
	doc, err := openapi_v3.ParseDocument(b)
	if err != nil {
		return nil, fmt.Errorf("parse openapi v3: %w", err)
	}
	return proto.Marshal(doc)
}

// ServeHTTP answers GET and HEAD on /openapi/v2, /openapi/v3 and
// /openapi/v3/<group-version path>.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch p := strings.TrimSuffix(r.URL.Path, "/"); {
	case p == PathV2:
		h.serve(w, r, h.v2, []string{MediaTypeV2Protobuf, mediaTypeV2ProtobufDeprecated})
	case p == PathV3:
		h.serve(w, r, h.v3Discovery, nil)
	case strings.HasPrefix(p, PathV3+"/"):
		key := strings.TrimPrefix(p, PathV3+"/")
		doc, ok := h.v3[key]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if hash := r.URL.Query().Get("hash"); hash != "" {
			if hash != doc.hash {
				// A client with an old discovery document: send it to the
				// current version, which it may then cache for good.
				http.Redirect(w, r, PathV3+"/"+key+"?hash="+doc.hash, http.StatusMovedPermanently)
				return
			}
			w.Header().Set("Cache-Control", "public, immutable")
			w.Header().Set("Expires", h.now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
		}
		h.serve(w, r, doc, []string{MediaTypeV3Protobuf, mediaTypeV3ProtobufDeprecated})
	default:
		http.NotFound(w, r)
	}
}

// serve writes doc as JSON, or as protobuf when the client prefers one of
// protoTypes, answering If-None-Match.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, doc *served, protoTypes []string) {
	mediaType, ok := negotiate(r.Header.Get("Accept"), protoTypes)
	if !ok {
		http.Error(w, "only application/json and the OpenAPI protobuf types are served", http.StatusNotAcceptable)
		return
	}
	body, etag := doc.json, `"`+doc.hash+`"`
	if mediaType != mimeJSON {
		pb, err := doc.protobuf()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body, etag = pb, `"`+doc.hash+`-pb"`
	}
	hdr := w.Header()
	hdr.Set("Vary", "Accept")
	hdr.Set("ETag", etag)
	if matchesETag(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", mediaType)
	hdr.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// negotiate picks the response media type from an Accept header: the
// acceptable type with the highest quality, JSON when the header is empty
// or allows anything.
func negotiate(accept string, protoTypes []string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mimeJSON, true
	}
	best, bestQ := "", -1.0
	for _, entry := range strings.Split(accept, ",") {
		mt, q := parseAcceptEntry(entry)
		var candidate string
		switch {
		case mt == mimeJSON || mt == "*/*" || mt == "application/*":
			candidate = mimeJSON
		case contains(protoTypes, mt):
			candidate = protoTypes[0]
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = candidate, q
		}
	}
	if best == "" || bestQ <= 0 {
		return "", false
	}
	return best, true
}

// parseAcceptEntry splits "type/sub; q=0.5; x=y" into the media type and
// its quality (1 when absent).
func parseAcceptEntry(entry string) (string, float64) {
	parts := strings.Split(entry, ";")
	q := 1.0
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.TrimSpace(k) == "q" {
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%g", &q); err != nil {
				q = 0
			}
		}
	}
	return strings.ToLower(strings.TrimSpace(parts[0])), q
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// matchesETag reports whether an If-None-Match header names etag.
func matchesETag(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
