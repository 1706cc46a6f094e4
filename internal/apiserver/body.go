package apiserver

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// maxBodyBytes is the largest request body accepted (upstream's 3 MiB).
const maxBodyBytes = 3 << 20

// readBody reads the request body within the size limit.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("reading request body: %v", err))
	}
	if len(data) > maxBodyBytes {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBodyBytes))
	}
	return data, nil
}

// contentType returns the media type of the request body (json by default).
func contentType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return mediaJSON
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

// fieldValidation returns the directive of the request (Warn by default).
func fieldValidation(r *http.Request) (string, error) {
	v := r.URL.Query().Get("fieldValidation")
	switch v {
	case "":
		return metav1.FieldValidationWarn, nil
	case metav1.FieldValidationIgnore, metav1.FieldValidationWarn, metav1.FieldValidationStrict:
		return v, nil
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("fieldValidation must be one of %q, %q or %q, got %q",
		metav1.FieldValidationIgnore, metav1.FieldValidationWarn, metav1.FieldValidationStrict, v))
}

// decodeObject decodes a typed object of kind gvk from data in media type
// mt. Unknown or duplicate fields fail under Strict and become warnings
// under Warn.
func (c *codecs) decodeObject(data []byte, mt string, gvk schema.GroupVersionKind, into runtime.Object, validation string) (runtime.Object, []string, error) {
	return c.decodeBody(data, mt, gvk, into, validation, true)
}

// decodeBody is decodeObject; fast allows the direct decoding of plain
// JSON bodies (tests compare it with the general path).
func (c *codecs) decodeBody(data []byte, mt string, gvk schema.GroupVersionKind, into runtime.Object, validation string, fast bool) (runtime.Object, []string, error) {
	var dec runtime.Decoder
	switch mt {
	case mediaJSON:
		dec = c.strictJSON
	case mediaYAML, mediaApplyPatch:
		dec = c.strictYAML
	case mediaProtobuf:
		info, _ := c.serializerFor(mediaProtobuf, false)
		dec = info.Serializer
	default:
		return nil, nil, apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "", schema.GroupResource{}, "",
			fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s", mediaJSON, mediaYAML, mediaProtobuf), 0, false)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, apierrors.NewBadRequest("the request body is empty")
	}
	if fast && mt == mediaJSON && into != nil {
		fresh := into.DeepCopyObject() // into is empty: a cheap copy
		if decodeStrictJSON(data, gvk, into) {
			return into, nil, nil
		}
		into = fresh // the fast path spoiled into: start again
	}
	obj, got, err := dec.Decode(data, &gvk, into)
	var warnings []string
	if err != nil {
		strict, isStrict := runtime.AsStrictDecodingError(err)
		if !isStrict {
			return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("the object provided is unrecognized or malformed: %v", err))
		}
		switch validation {
		case metav1.FieldValidationStrict:
			return nil, nil, apierrors.NewBadRequest(err.Error())
		case metav1.FieldValidationWarn:
			for _, e := range strict.Errors() {
				warnings = append(warnings, e.Error())
			}
		}
	}
	if got != nil && *got != gvk {
		if got.GroupVersion() != gvk.GroupVersion() {
			return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", got.GroupVersion(), gvk.GroupVersion()))
		}
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("the kind in the data (%s) does not match the expected kind (%s)", got.Kind, gvk.Kind))
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj, warnings, nil
}

// addWarnings sets Warning headers in upstream's format.
func addWarnings(w http.ResponseWriter, warnings []string) {
	for _, msg := range warnings {
		w.Header().Add("Warning", fmt.Sprintf("299 - %q", msg))
	}
}
