package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/skiffkube/skiff/internal/storage/cacher"
)

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) error {
	var opts metav1.ListOptions
	if err := s.codecs.decodeParams(r.URL.Query(), &opts); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	items, res, err := s.listItems(r.Context(), rs, info.Namespace, opts)
	if err != nil {
		return err
	}
	list := rs.res.NewList()
	list.GetObjectKind().SetGroupVersionKind(rs.gvk.GroupVersion().WithKind(rs.res.ListKind))
	if err := meta.SetList(list, items); err != nil {
		return apierrors.NewInternalError(err)
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	lm.SetResourceVersion(strconv.FormatInt(res.ResourceVersion, 10))
	lm.SetContinue(res.Continue)
	lm.SetRemainingItemCount(res.RemainingItemCount)
	s.resp.writeObject(w, r, http.StatusOK, list)
	return nil
}

// selectors parses and checks the label and field selectors of a request.
func selectors(rs *resourceStore, opts metav1.ListOptions) (labels.Selector, fields.Selector, error) {
	ls := labels.Everything()
	if opts.LabelSelector != "" {
		var err error
		if ls, err = labels.Parse(opts.LabelSelector); err != nil {
			return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", err))
		}
	}
	fs := fields.Everything()
	if opts.FieldSelector != "" {
		var err error
		if fs, err = fields.ParseSelector(opts.FieldSelector); err != nil {
			return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
		}
		if err := checkFieldSelector(fs, rs.newObject(), rs.res.Namespaced); err != nil {
			return nil, nil, err
		}
	}
	return ls, fs, nil
}

// listItems lists through the watch cache.
func (s *Server) listItems(ctx context.Context, rs *resourceStore, ns string, opts metav1.ListOptions) ([]runtime.Object, *cacher.ListResult, error) {
	ls, fs, err := selectors(rs, opts)
	if err != nil {
		return nil, nil, err
	}
	switch opts.ResourceVersionMatch {
	case "", metav1.ResourceVersionMatchExact, metav1.ResourceVersionMatchNotOlderThan:
	default:
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("resourceVersionMatch: Unsupported value: %q", opts.ResourceVersionMatch))
	}
	if opts.ResourceVersionMatch != "" && opts.ResourceVersion == "" {
		return nil, nil, apierrors.NewBadRequest("resourceVersionMatch is forbidden unless resourceVersion is provided")
	}
	if opts.Continue != "" && opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
		return nil, nil, apierrors.NewBadRequest("specifying resource version is not allowed when using continue")
	}
	res, err := rs.cache.List(ctx, cacher.ListOptions{
		KeyPrefix:            rs.keyPrefix(ns),
		ResourceVersion:      opts.ResourceVersion,
		ResourceVersionMatch: opts.ResourceVersionMatch,
		Label:                ls,
		Field:                fs,
		Limit:                opts.Limit,
		Continue:             opts.Continue,
	})
	if err != nil {
		return nil, nil, rs.storageError(err, "")
	}
	return res.Items, res, nil
}
