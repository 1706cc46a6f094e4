package agent

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Annotations of static and mirror pods, as upstream names them.
const (
	// AnnotationConfigSource is where a pod came from: SourceFile,
	// SourceHTTP or SourceAPI.
	AnnotationConfigSource = "kubernetes.io/config.source"
	// AnnotationConfigHash is a static pod's hash (its UID).
	AnnotationConfigHash = "kubernetes.io/config.hash"
	// AnnotationConfigMirror marks a mirror pod; its value is the hash
	// of the static pod it mirrors.
	AnnotationConfigMirror = "kubernetes.io/config.mirror"
	// AnnotationConfigSeen is when the agent first saw the pod
	// (RFC 3339 with nanoseconds).
	AnnotationConfigSeen = "kubernetes.io/config.seen"
)

// Pod sources.
const (
	SourceFile = "file"
	SourceHTTP = "http"
	SourceAPI  = "api"
)

// errNoPods is returned for a manifest that holds no pod.
var errNoPods = errors.New("no pod in manifest")

// ManifestPods decodes one manifest: a Pod or a PodList, in JSON or YAML
// (several YAML documents are several pods). Each pod is made a static
// pod of node (see staticPod); source is SourceFile or SourceHTTP and
// origin the file path or URL, which enter the pods' UIDs.
func ManifestPods(data []byte, source, origin, node string) ([]*corev1.Pod, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var pods []*corev1.Pod
	for doc := 0; ; doc++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		got, err := decodePods(raw)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		for _, p := range got {
			if err := staticPod(p, source, origin, node); err != nil {
				return nil, fmt.Errorf("document %d: %w", doc, err)
			}
			pods = append(pods, p)
		}
	}
	if len(pods) == 0 {
		return nil, errNoPods
	}
	return pods, nil
}

// decodePods decodes one document: a v1 Pod or PodList.
func decodePods(raw []byte) ([]*corev1.Pod, error) {
	var tm metav1.TypeMeta
	if err := json.Unmarshal(raw, &tm); err != nil {
		return nil, err
	}
	if tm.APIVersion != "v1" || (tm.Kind != "Pod" && tm.Kind != "PodList") {
		return nil, fmt.Errorf("want a v1 Pod or PodList, got %s %s", tm.APIVersion, tm.Kind)
	}
	if tm.Kind == "Pod" {
		p := &corev1.Pod{}
		if err := json.Unmarshal(raw, p); err != nil {
			return nil, err
		}
		return []*corev1.Pod{p}, nil
	}
	var list corev1.PodList
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	pods := make([]*corev1.Pod, 0, len(list.Items))
	for i := range list.Items {
		pods = append(pods, &list.Items[i])
	}
	return pods, nil
}

// staticPod turns a decoded pod into node's static pod, as upstream does:
// the name gets the node name as a suffix, the UID (and config.hash) is
// a hash of node, source and content, the namespace defaults to
// "default", the pod is bound to node and tolerates every NoExecute
// taint, and the API's defaults are applied.
func staticPod(p *corev1.Pod, source, origin, node string) error {
	if p.Name == "" {
		return errors.New("pod has no name")
	}
	if len(p.Spec.Containers) == 0 {
		return fmt.Errorf("pod %s has no containers", p.Name)
	}
	content, err := json.Marshal(p)
	if err != nil {
		return err
	}
	h := sha256.New()
	fmt.Fprintf(h, "node:%s\x00%s:%s\x00", node, source, origin)
	h.Write(content)
	uid := hex.EncodeToString(h.Sum(nil)[:16])

	p.Name = p.Name + "-" + strings.ToLower(node)
	if p.Namespace == "" {
		p.Namespace = metav1.NamespaceDefault
	}
	p.UID = types.UID(uid)
	p.ResourceVersion, p.Generation, p.SelfLink = "", 0, ""
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[AnnotationConfigSource] = source
	p.Annotations[AnnotationConfigHash] = uid
	delete(p.Annotations, AnnotationConfigMirror)
	p.Spec.NodeName = node
	if !toleratesAllNoExecute(p.Spec.Tolerations) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute})
	}
	defaultStaticPod(p)
	p.Status = corev1.PodStatus{Phase: corev1.PodPending}
	p.Status.QOSClass = qosClass(p)
	return nil
}

func toleratesAllNoExecute(ts []corev1.Toleration) bool {
	for _, t := range ts {
		if t.Key == "" && t.Operator == corev1.TolerationOpExists && t.Effect == corev1.TaintEffectNoExecute {
			return true
		}
	}
	return false
}

// defaultStaticPod applies the API defaults the agent depends on (static
// pods do not pass through the API server).
func defaultStaticPod(p *corev1.Pod) {
	s := &p.Spec
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.TerminationGracePeriodSeconds == nil {
		g := int64(corev1.DefaultTerminationGracePeriodSeconds)
		s.TerminationGracePeriodSeconds = &g
	}
	if s.SchedulerName == "" {
		s.SchedulerName = corev1.DefaultSchedulerName
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	if s.EnableServiceLinks == nil {
		on := corev1.DefaultEnableServiceLinks
		s.EnableServiceLinks = &on
	}
	for _, list := range [][]corev1.Container{s.InitContainers, s.Containers} {
		for i := range list {
			defaultStaticContainer(&list[i], s.HostNetwork)
		}
	}
	for i := range s.Volumes {
		if v := &s.Volumes[i]; v.VolumeSource == (corev1.VolumeSource{}) {
			v.EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
	}
}

func defaultStaticContainer(c *corev1.Container, hostNetwork bool) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = DefaultPullPolicy(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
		if hostNetwork && c.Ports[i].HostPort == 0 {
			c.Ports[i].HostPort = c.Ports[i].ContainerPort
		}
	}
	for name, limit := range c.Resources.Limits {
		if _, ok := c.Resources.Requests[name]; !ok {
			if c.Resources.Requests == nil {
				c.Resources.Requests = corev1.ResourceList{}
			}
			c.Resources.Requests[name] = limit.DeepCopy()
		}
	}
}

// DefaultPullPolicy is the pull policy of an image when the pod gives
// none: Always for ":latest" or an untagged name (not pinned by digest),
// IfNotPresent otherwise.
func DefaultPullPolicy(image string) corev1.PullPolicy {
	ref := image
	digest := false
	if i := strings.Index(ref, "@"); i >= 0 {
		ref, digest = ref[:i], true
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	tag := ""
	if i := strings.LastIndex(last, ":"); i >= 0 {
		tag = last[i+1:]
	}
	if tag == "latest" || (tag == "" && !digest) {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// isMirror is true for a mirror pod (an API pod standing for a static
// pod).
func isMirror(p *corev1.Pod) bool {
	_, ok := p.Annotations[AnnotationConfigMirror]
	return ok
}

// isStatic is true for a pod read from a manifest.
func isStatic(p *corev1.Pod) bool {
	s := p.Annotations[AnnotationConfigSource]
	return (s == SourceFile || s == SourceHTTP) && !isMirror(p)
}

// mirrorPod is the API object standing for static pod p on node nodeUID.
func mirrorPod(p *corev1.Pod, node string, nodeUID types.UID) *corev1.Pod {
	m := &corev1.Pod{ObjectMeta: *p.ObjectMeta.DeepCopy(), Spec: *p.Spec.DeepCopy()}
	m.UID, m.ResourceVersion, m.CreationTimestamp = "", "", metav1.Time{}
	m.Annotations[AnnotationConfigMirror] = p.Annotations[AnnotationConfigHash]
	controller := true
	m.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, UID: nodeUID, Controller: &controller}}
	return m
}
