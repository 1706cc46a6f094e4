package apiserver

import (
	"fmt"
	"net/http"
	"reflect"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiffkube/skiff/internal/storage"
)

// serveSubresource handles /status, /scale, /binding, /eviction,
// /finalize, and passes the agent-backed ones to the pod's node.
func (s *Server) serveSubresource(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) {
	var err error
	switch sub := info.Subresource; {
	case sub == "finalize" && info.Verb == "update":
		err = s.handleUpdate(w, r, rs, info, "finalize")
	case sub == "status":
		switch info.Verb {
		case "get":
			err = s.handleGet(w, r, rs, info)
		case "update":
			err = s.handleUpdate(w, r, rs, info, "status")
		case "patch":
			err = s.handlePatch(w, r, rs, info, "status")
		default:
			err = apierrors.NewMethodNotSupported(rs.gr, info.Verb)
		}
	case sub == "scale":
		err = s.handleScale(w, r, rs, info)
	case sub == "binding" && info.Verb == "create":
		err = s.handleBinding(w, r, rs, info)
	case sub == "token" && info.Verb == "create" && rs.gvk.Kind == "ServiceAccount":
		err = s.handleTokenRequest(w, r, rs, info)
	case sub == "eviction" && info.Verb == "create":
		err = s.handleEviction(w, r, rs, info)
	default:
		// Logs, exec, attach, port-forward and node proxy go to an agent.
		var served bool
		if served, err = s.serveNodeBacked(w, r, rs, info); !served {
			err = errNotServedYet(rs.gr, sub, info.Name)
		}
	}
	if err != nil {
		s.resp.writeError(w, r, err)
	}
}

// scaleOf reads replicas and selector through reflection: Deployment,
// ReplicaSet, StatefulSet and ReplicationController share the shape.
func scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	m := objectMeta(obj)
	sc := &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()},
	}
	spec := structField(obj, "Spec")
	status := structField(obj, "Status")
	if r := spec.FieldByName("Replicas"); r.IsValid() && !r.IsNil() {
		sc.Spec.Replicas = int32(r.Elem().Int())
	}
	if r := status.FieldByName("Replicas"); r.IsValid() {
		sc.Status.Replicas = int32(r.Int())
	}
	switch sel := spec.FieldByName("Selector").Interface().(type) {
	case *metav1.LabelSelector:
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		sc.Status.Selector = s.String()
	case map[string]string:
		sc.Status.Selector = labels.SelectorFromSet(sel).String()
	}
	return sc, nil
}

// setReplicas writes spec.replicas.
func setReplicas(obj runtime.Object, n int32) {
	r := structField(obj, "Spec").FieldByName("Replicas")
	v := n
	r.Set(reflect.ValueOf(&v))
}

func (s *Server) handleScale(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) error {
	scaleGVK := autoscalingv1.SchemeGroupVersion.WithKind("Scale")
	switch info.Verb {
	case "get":
		obj, _, err := rs.get(r.Context(), info.Namespace, info.Name)
		if err != nil {
			return err
		}
		sc, err := scaleOf(obj)
		if err != nil {
			return err
		}
		s.resp.writeObject(w, r, http.StatusOK, sc)
		return nil
	case "update", "patch":
	default:
		return apierrors.NewMethodNotSupported(rs.gr, info.Verb)
	}
	validation, err := fieldValidation(r)
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	pt := contentType(r)
	var p *patcher
	var replaced *autoscalingv1.Scale
	if info.Verb == "patch" {
		p = &patcher{codecs: s.codecs, gvk: scaleGVK, newObject: func() runtime.Object { return &autoscalingv1.Scale{} }, patchType: pt, patch: data, validation: validation}
	} else {
		obj, _, err := s.codecs.decodeObject(data, pt, scaleGVK, &autoscalingv1.Scale{}, validation)
		if err != nil {
			return err
		}
		replaced = obj.(*autoscalingv1.Scale)
	}
	var result *autoscalingv1.Scale
	out, _, err := rs.update(r.Context(), info.Namespace, info.Name, func(old runtime.Object) (runtime.Object, error) {
		cur, err := scaleOf(old)
		if err != nil {
			return nil, err
		}
		want := replaced
		if p != nil {
			patched, err := p.applyTo(cur)
			if err != nil {
				return nil, err
			}
			want = patched.(*autoscalingv1.Scale)
		}
		if want.ResourceVersion != "" && want.ResourceVersion != cur.ResourceVersion {
			return nil, rs.storageError(storage.ErrConflict, info.Name)
		}
		if want.Spec.Replicas < 0 {
			return nil, errInvalid(scaleGVK.GroupKind(), info.Name, fieldErr(field.Invalid(field.NewPath("spec", "replicas"), want.Spec.Replicas, "must be greater than or equal to 0")))
		}
		setReplicas(old, want.Spec.Replicas)
		objectMeta(old).SetResourceVersion("")
		return old, nil
	}, nil, writeOptions{FieldManager: managerName("", r)})
	if err != nil {
		return err
	}
	if result, err = scaleOf(out); err != nil {
		return err
	}
	s.resp.writeObject(w, r, http.StatusOK, result)
	return nil
}

// handleBinding assigns a pod to a node (pods/binding).
func (s *Server) handleBinding(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	obj, _, err := s.codecs.decodeObject(data, contentType(r), corev1.SchemeGroupVersion.WithKind("Binding"), &corev1.Binding{}, metav1.FieldValidationIgnore)
	if err != nil {
		return err
	}
	b := obj.(*corev1.Binding)
	if b.Name != "" && b.Name != info.Name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the binding (%s) does not match the name on the URL (%s)", b.Name, info.Name))
	}
	if b.Target.Name == "" {
		return errInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), info.Name, fieldErr(field.Required(field.NewPath("target", "name"), "")))
	}
	_, _, err = rs.update(r.Context(), info.Namespace, info.Name, func(old runtime.Object) (runtime.Object, error) {
		pod := old.(*corev1.Pod)
		if pod.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(rs.gr, info.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", info.Name))
		}
		if pod.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(rs.gr, info.Name, fmt.Errorf("pod %s is already assigned to node %q", info.Name, pod.Spec.NodeName))
		}
		if b.UID != "" && b.UID != pod.UID {
			return nil, apierrors.NewConflict(rs.gr, info.Name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", b.UID, pod.UID))
		}
		pod.Spec.NodeName = b.Target.Name
		for k, v := range b.Annotations {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[k] = v
		}
		setPodCondition(&pod.Status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: rs.now()})
		pod.ResourceVersion = ""
		return pod, nil
	}, nil, writeOptions{FieldManager: managerName("", r), Internal: true})
	if err != nil {
		return err
	}
	s.resp.writeObject(w, r, http.StatusCreated, &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: http.StatusCreated})
	return nil
}

func setPodCondition(st *corev1.PodStatus, c corev1.PodCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			if st.Conditions[i].Status == c.Status {
				return
			}
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}

// handleEviction deletes a pod through the eviction subresource, if its
// PodDisruptionBudget allows it (429 otherwise).
func (s *Server) handleEviction(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	obj, _, err := s.codecs.decodeObject(data, contentType(r), policyv1.SchemeGroupVersion.WithKind("Eviction"), &policyv1.Eviction{}, metav1.FieldValidationIgnore)
	if err != nil {
		return err
	}
	ev := obj.(*policyv1.Eviction)
	opts := metav1.DeleteOptions{}
	if ev.DeleteOptions != nil {
		opts = *ev.DeleteOptions
	}
	current, _, err := rs.get(r.Context(), info.Namespace, info.Name)
	if err != nil {
		return err
	}
	pod := current.(*corev1.Pod)
	if err := s.admitEviction(r.Context(), pod, len(opts.DryRun) > 0); err != nil {
		return err
	}
	// The budget was charged for this pod: delete exactly it.
	if opts.Preconditions == nil {
		opts.Preconditions = &metav1.Preconditions{UID: &pod.UID}
	}
	if _, err := rs.delete(r.Context(), info.Namespace, info.Name, opts); err != nil {
		return err
	}
	s.resp.writeObject(w, r, http.StatusCreated, &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: http.StatusCreated})
	return nil
}
