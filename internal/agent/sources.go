package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiffkube/skiff/internal/agent/envvars"
	"github.com/skiffkube/skiff/internal/agent/volume"
)

// serviceCacheTTL is how long a namespace's Services are reused for the
// Service link variables.
const serviceCacheTTL = 10 * time.Second

// serviceList is a namespace's Services as last listed.
type serviceList struct {
	services []*corev1.Service
	at       time.Time
}

// errTokenUnsupported is returned when the API server cannot issue
// service account tokens.
var errTokenUnsupported = errors.New("the API server does not serve the TokenRequest API")

// fetchObjects GETs the named ConfigMaps and Secrets of a namespace; a
// missing one is a nil entry.
func (a *Agent) fetchObjects(ctx context.Context, ns string, cms, secrets []string) (map[string]*corev1.ConfigMap, map[string]*corev1.Secret, error) {
	var (
		outCM map[string]*corev1.ConfigMap
		outS  map[string]*corev1.Secret
	)
	for _, name := range cms {
		cm, err := a.cfg.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm, err = nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("getting configmap %q: %w", name, err)
		}
		if outCM == nil {
			outCM = map[string]*corev1.ConfigMap{}
		}
		outCM[name] = cm
	}
	for _, name := range secrets {
		s, err := a.cfg.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			s, err = nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("getting secret %q: %w", name, err)
		}
		if outS == nil {
			outS = map[string]*corev1.Secret{}
		}
		outS[name] = s
	}
	return outCM, outS, nil
}

// services returns the Services a pod's link variables come from: its
// namespace's (if links are on) and the API server's, cached briefly.
func (a *Agent) services(ctx context.Context, pod *corev1.Pod) ([]*corev1.Service, error) {
	namespaces := []string{envvars.MasterServiceNamespace}
	if pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks {
		if pod.Namespace != envvars.MasterServiceNamespace {
			namespaces = append(namespaces, pod.Namespace)
		}
	}
	var out []*corev1.Service
	now := a.cfg.Clock.Now()
	for _, ns := range namespaces {
		cached, ok := a.svcCache[ns]
		if !ok || now.Sub(cached.at) > serviceCacheTTL {
			list, err := a.cfg.Client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, fmt.Errorf("listing services of %s: %w", ns, err)
			}
			cached = serviceList{at: now}
			for i := range list.Items {
				cached.services = append(cached.services, &list.Items[i])
			}
			a.svcCache[ns] = cached
		}
		out = append(out, cached.services...)
	}
	return out, nil
}

// podInfo is what the downward API reads of the agent's knowledge.
func (a *Agent) podInfo(pod *corev1.Pod, podIP string) envvars.PodInfo {
	info := envvars.PodInfo{HostIP: a.cfg.NodeIP, Allocatable: a.cfg.Capacity}
	if pod.Spec.HostNetwork {
		podIP = a.cfg.NodeIP
	}
	if podIP != "" {
		info.PodIPs = []string{podIP}
	}
	return info
}

// resolveEnv computes container c's environment, command and args.
func (a *Agent) resolveEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container, podIP string) (envvars.Result, error) {
	cmNames, secretNames := envvars.Needs(c)
	cms, secrets, err := a.fetchObjects(ctx, pod.Namespace, cmNames, secretNames)
	if err != nil {
		return envvars.Result{}, err
	}
	svcs, err := a.services(ctx, pod)
	if err != nil && !isStatic(pod) {
		return envvars.Result{}, err
	}
	// A static pod starts without the API server: no Service variables.
	return envvars.Resolve(pod, c, envvars.Inputs{
		ConfigMaps: cms, Secrets: secrets,
		ServiceEnv: envvars.ServiceEnv(pod, svcs),
		Info:       a.podInfo(pod, podIP),
	})
}

// volumeSources fetches what the pod's API-backed volumes are made of.
func (a *Agent) volumeSources(ctx context.Context, pod *corev1.Pod) (volume.Sources, error) {
	cmNames, secretNames, tokens := volume.Needs(pod)
	cms, secrets, err := a.fetchObjects(ctx, pod.Namespace, cmNames, secretNames)
	if err != nil {
		return volume.Sources{}, err
	}
	src := volume.Sources{ConfigMaps: cms, Secrets: secrets, Info: a.podInfo(pod, "")}
	for _, t := range tokens {
		tok, err := a.requestToken(ctx, pod, t)
		if err != nil {
			return volume.Sources{}, fmt.Errorf("volume %q: %w", t.Volume, err)
		}
		if src.Tokens == nil {
			src.Tokens = map[string]string{}
		}
		src.Tokens[t.Volume+"/"+t.Path] = tok
	}
	return src, nil
}

// requestToken asks the API server for a token of the pod's service
// account, bound to the pod.
func (a *Agent) requestToken(ctx context.Context, pod *corev1.Pod, t volume.Token) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &t.ExpirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if t.Audience != "" {
		req.Spec.Audiences = []string{t.Audience}
	}
	resp, err := a.cfg.Client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	switch {
	case apierrors.IsNotFound(err) && apierrors.ReasonForError(err) == metav1.StatusReasonNotFound && isServiceAccountMissing(err):
		return "", fmt.Errorf("failed to fetch token: serviceaccounts %q not found", sa)
	case apierrors.IsNotFound(err), apierrors.IsMethodNotSupported(err), isNotImplemented(err):
		return "", fmt.Errorf("failed to fetch token: %w", errTokenUnsupported)
	case err != nil:
		return "", fmt.Errorf("failed to fetch token: %w", err)
	}
	return resp.Status.Token, nil
}

// isServiceAccountMissing tells a missing ServiceAccount from a missing
// token subresource.
func isServiceAccountMissing(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return false
	}
	d := se.Status().Details
	return d != nil && d.Kind == "serviceaccounts"
}

func isNotImplemented(err error) bool {
	var se apierrors.APIStatus
	return errors.As(err, &se) && se.Status().Code == 501
}
