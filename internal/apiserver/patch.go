package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// patcher applies one patch document of one type to objects of one kind.
type patcher struct {
	codecs     *codecs
	gvk        schema.GroupVersionKind
	newObject  func() runtime.Object
	patchType  string
	patch      []byte
	validation string
	// warnings collects unknown-field warnings of the last application.
	warnings []string
}

// applyTo returns a copy of obj with the patch applied.
func (p *patcher) applyTo(obj runtime.Object) (runtime.Object, error) {
	// The stored resourceVersion is left out so that only a version the
	// patch itself names acts as a precondition; otherwise the patch
	// applies to the latest object and is retried on conflicts.
	m := objectMeta(obj)
	rv := m.GetResourceVersion()
	m.SetResourceVersion("")
	current, err := json.Marshal(obj)
	m.SetResourceVersion(rv)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	var patched []byte
	switch p.patchType {
	case mediaJSONPatch:
		ops, err := jsonpatch.DecodePatch(p.patch)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding json patch: %v", err))
		}
		patched, err = applyJSONPatch(ops, current)
		if err != nil {
			return nil, apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", err.Error(), 0, false)
		}
	case mediaMergePatch:
		patched, err = jsonpatch.MergePatch(current, p.patch)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("error applying merge patch: %v", err))
		}
	case mediaStrategicPatch:
		patched, err = strategicMergePatch(current, p.patch, p.newObject())
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("error applying strategic merge patch: %v", err))
		}
	default:
		return nil, unsupportedPatch(p.patchType)
	}
	out, warnings, err := p.codecs.decodeObject(patched, mediaJSON, p.gvk, p.newObject(), p.validation)
	if err != nil {
		return nil, err
	}
	p.warnings = warnings
	return out, nil
}

func unsupportedPatch(t string) error {
	return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "patch", schema.GroupResource{}, "",
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s, %s",
			mediaJSONPatch, mediaMergePatch, mediaStrategicPatch, mediaApplyPatch), 0, false)
}

func (s *Server) handlePatch(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo, sub string) error {
	var opts metav1.PatchOptions
	validation, data, err := s.readWrite(r, &opts, &opts.DryRun)
	if err != nil {
		return err
	}
	pt := contentType(r)
	wo := writeOptions{DryRun: isDryRun(opts.DryRun), FieldManager: managerName(opts.FieldManager, r), Subresource: sub}
	if pt == mediaApplyPatch {
		return s.handleApply(w, r, rs, info, data, opts, wo)
	}
	if opts.Force != nil {
		return apierrors.NewBadRequest("force: Forbidden: may not be specified for non-apply patch")
	}
	p := &patcher{codecs: s.codecs, gvk: rs.gvk, newObject: rs.newObject, patchType: pt, patch: data, validation: validation}
	if pt != mediaJSONPatch && pt != mediaMergePatch && pt != mediaStrategicPatch {
		return unsupportedPatch(pt)
	}
	out, _, err := rs.update(r.Context(), info.Namespace, info.Name, p.applyTo, nil, wo)
	if err != nil {
		return err
	}
	addWarnings(w, p.warnings)
	s.resp.writeObject(w, r, http.StatusOK, out)
	return nil
}

// handleApply runs server-side apply: the field manager merges the applied
// configuration into the live object, or creates it.
func (s *Server) handleApply(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo, data []byte, opts metav1.PatchOptions, wo writeOptions) error {
	if opts.FieldManager == "" {
		return errInvalid(rs.gvk.GroupKind(), info.Name, fieldErr(requiredFieldManager()))
	}
	jsonData, err := yaml.YAMLToJSON(data)
	if err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	applied := &unstructured.Unstructured{}
	if err := applied.UnmarshalJSON(jsonData); err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("error decoding apply configuration: %v", err))
	}
	if applied.GroupVersionKind() != rs.gvk {
		return apierrors.NewBadRequest(fmt.Sprintf("the apply configuration is for %s, not %s", applied.GroupVersionKind(), rs.gvk))
	}
	if applied.GetName() != info.Name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", applied.GetName(), info.Name))
	}
	if rs.res.Namespaced {
		if ns := applied.GetNamespace(); ns != "" && ns != info.Namespace {
			return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
		applied.SetNamespace(info.Namespace)
	}
	force := opts.Force != nil && *opts.Force
	fm := rs.fieldManagers[wo.Subresource]
	wo.Applied = true
	apply := func(live runtime.Object) (runtime.Object, error) {
		out, err := fm.Apply(live, applied.DeepCopy(), wo.FieldManager, force)
		if err != nil {
			return nil, err
		}
		// As with patches, only a resourceVersion in the applied
		// configuration is a precondition.
		objectMeta(out).SetResourceVersion(applied.GetResourceVersion())
		return out, nil
	}
	createFn := func() (runtime.Object, error) {
		live := rs.newObject()
		m := objectMeta(live)
		m.SetName(info.Name)
		m.SetNamespace(applied.GetNamespace())
		obj, err := apply(live)
		if err != nil {
			return nil, err
		}
		if err := s.admitCreate(r.Context(), rs, obj); err != nil {
			return nil, err
		}
		return obj, nil
	}
	out, created, err := rs.update(r.Context(), info.Namespace, info.Name, apply, createFn, wo)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	s.resp.writeObject(w, r, code, out)
	return nil
}
