package apiserver

import corev1 "k8s.io/api/core/v1"

// defaultTolerationSeconds is how long a pod stays on a node that is not
// ready or unreachable before it is evicted (upstream's default of the
// DefaultTolerationSeconds plugin's flags).
const defaultTolerationSeconds = 300

// addDefaultTolerations is the DefaultTolerationSeconds plugin: a pod that
// does not tolerate the not-ready and unreachable NoExecute taints gets
// tolerations for them bounded to defaultTolerationSeconds.
func addDefaultTolerations(pod *corev1.Pod) {
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		if toleratesNoExecute(pod.Spec.Tolerations, key) {
			continue
		}
		secs := int64(defaultTolerationSeconds)
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{
			Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs,
		})
	}
}

// toleratesNoExecute reports whether some toleration already covers the
// NoExecute taint key (an empty key or effect matches every one).
func toleratesNoExecute(ts []corev1.Toleration, key string) bool {
	for _, t := range ts {
		if (t.Key == key || t.Key == "") && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
			return true
		}
	}
	return false
}
