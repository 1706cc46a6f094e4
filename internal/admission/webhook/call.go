package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
)

// maxResponseBytes bounds what a webhook may answer.
const maxResponseBytes = 3 << 20

// newRequest builds the AdmissionRequest of a.
func (d *Dispatcher) newRequest(a *Attributes) (*admissionv1.AdmissionRequest, error) {
	uid := uuid.NewUUID()
	if d.cfg.NewUID != nil {
		uid = d.cfg.NewUID()
	}
	kind := metav1.GroupVersionKind{Group: a.Kind.Group, Version: a.Kind.Version, Kind: a.Kind.Kind}
	res := metav1.GroupVersionResource{Group: a.Resource.Group, Version: a.Resource.Version, Resource: a.Resource.Resource}
	req := &admissionv1.AdmissionRequest{
		UID: uid, Kind: kind, Resource: res, SubResource: a.Subresource,
		RequestKind: &kind, RequestResource: &res, RequestSubResource: a.Subresource,
		Name: a.Name, Namespace: a.Namespace, Operation: a.Operation, UserInfo: a.UserInfo, DryRun: &a.DryRun,
	}
	var err error
	if req.Object, err = rawObject(a, a.Object); err != nil {
		return nil, err
	}
	if req.OldObject, err = rawObject(a, a.OldObject); err != nil {
		return nil, err
	}
	if a.Options != nil {
		data, err := json.Marshal(a.Options)
		if err != nil {
			return nil, fmt.Errorf("encoding the request options: %w", err)
		}
		req.Options = runtime.RawExtension{Raw: data}
	}
	return req, nil
}

// rawObject encodes obj as JSON with its apiVersion and kind.
func rawObject(a *Attributes, obj runtime.Object) (runtime.RawExtension, error) {
	if obj == nil {
		return runtime.RawExtension{}, nil
	}
	cp := obj.DeepCopyObject()
	cp.GetObjectKind().SetGroupVersionKind(a.Kind)
	data, err := json.Marshal(cp)
	if err != nil {
		return runtime.RawExtension{}, fmt.Errorf("encoding the object: %w", err)
	}
	return runtime.RawExtension{Raw: data}, nil
}

// reviewVersion picks the AdmissionReview version to send: v1 when the
// webhook accepts it, else v1beta1 (the same shape).
func reviewVersion(h *hook) string {
	if slices.Contains(h.reviewVersions, "v1") || !slices.Contains(h.reviewVersions, "v1beta1") {
		return "admission.k8s.io/v1"
	}
	return "admission.k8s.io/v1beta1"
}

// call posts the review to h and checks the answer's shape. Errors here
// are subject to the failurePolicy.
func (d *Dispatcher) call(ctx context.Context, h *hook, req *admissionv1.AdmissionRequest) (*admissionv1.AdmissionResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(h.timeoutSeconds)*time.Second)
	defer cancel()
	target, serverName, err := d.target(ctx, h)
	if err != nil {
		return nil, err
	}
	client, err := d.clients.get(h.clientConfig.CABundle, serverName)
	if err != nil {
		return nil, err
	}
	version := reviewVersion(h)
	review := admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: version, Kind: "AdmissionReview"}, Request: req}
	body, err := json.Marshal(review)
	if err != nil {
		return nil, fmt.Errorf("encoding the review: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	hresp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("failed to call webhook: %w", err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		return nil, fmt.Errorf("webhook answered %s", hresp.Status)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("received invalid webhook response: %w", err)
	}
	switch {
	case out.Response == nil:
		return nil, errors.New("webhook response was absent")
	case out.APIVersion != version || out.Kind != "AdmissionReview":
		return nil, fmt.Errorf("expected webhook response of %s, Kind=AdmissionReview, got %s, Kind=%s", version, out.APIVersion, out.Kind)
	case out.Response.UID != req.UID:
		return nil, fmt.Errorf("expected response.uid=%q, got %q", req.UID, out.Response.UID)
	}
	return out.Response, nil
}

// target is the URL to post to and the name the server's certificate
// must carry.
func (d *Dispatcher) target(ctx context.Context, h *hook) (string, string, error) {
	cc := h.clientConfig
	if cc.URL != nil {
		u, err := url.Parse(*cc.URL)
		if err != nil {
			return "", "", fmt.Errorf("invalid url: %w", err)
		}
		return u.String(), u.Hostname(), nil
	}
	if cc.Service == nil {
		return "", "", errors.New("webhook has neither url nor service")
	}
	if d.cfg.ResolveService == nil {
		return "", "", errors.New("no service resolver configured")
	}
	hostPort, err := d.cfg.ResolveService(ctx, *cc.Service)
	if err != nil {
		return "", "", fmt.Errorf("resolving service %s/%s: %w", cc.Service.Namespace, cc.Service.Name, err)
	}
	path := ""
	if cc.Service.Path != nil {
		path = *cc.Service.Path
	}
	u := url.URL{Scheme: "https", Host: hostPort, Path: path}
	return u.String(), cc.Service.Name + "." + cc.Service.Namespace + ".svc", nil
}

// denied turns a refusal into the status error upstream returns.
func denied(name string, resp *admissionv1.AdmissionResponse) error {
	st := metav1.Status{Status: metav1.StatusFailure, Code: http.StatusBadRequest}
	if resp.Result != nil {
		st = *resp.Result
		st.Status = metav1.StatusFailure
		if st.Code == 0 {
			st.Code = http.StatusBadRequest
		}
	}
	by := fmt.Sprintf("admission webhook %q denied the request", name)
	switch {
	case st.Message != "":
		st.Message = by + ": " + st.Message
	case st.Reason != "":
		st.Message = by + ": " + string(st.Reason)
	default:
		st.Message = by + " without explanation"
	}
	return &apierrors.StatusError{ErrStatus: st}
}

// clientCache keeps one HTTPS client per CA bundle and server name.
type clientCache struct {
	base    *http.Transport
	mu      sync.Mutex
	clients map[string]*http.Client
}

func (c *clientCache) get(caBundle []byte, serverName string) (*http.Client, error) {
	key := string(caBundle) + "\x00" + serverName
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[key]; ok {
		return cl, nil
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if len(caBundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caBundle) {
			return nil, errors.New("invalid caBundle")
		}
		tlsCfg.RootCAs = pool
	}
	var tr *http.Transport
	if c.base != nil {
		tr = c.base.Clone()
	} else {
		tr = &http.Transport{DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second}
	}
	tr.TLSClientConfig = tlsCfg
	cl := &http.Client{Transport: tr}
	if c.clients == nil {
		c.clients = map[string]*http.Client{}
	}
	c.clients[key] = cl
	return cl, nil
}
