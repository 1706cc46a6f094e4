package e2e

import (
	"strconv"
	"testing"
	"time"
)

// testHPA runs a Deployment whose container spins a CPU, with an
// autoscaling/v2 HorizontalPodAutoscaler targeting 10% of its small CPU
// request: fed by the metrics the agent reports, the HPA scales it up
// beyond one replica and reports the current utilization.
func testHPA(t *testing.T, n *upNode) {
	manifest := `apiVersion: apps/v1
kind: Deployment
metadata: {name: spinner, namespace: hpa}
spec:
  replicas: 1
  selector: {matchLabels: {app: spinner}}
  template:
    metadata: {labels: {app: spinner}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: spin
        image: registry.skiff.local/busybox:1.35
        command: ["sh", "-c", "while :; do :; done"]
        resources: {requests: {cpu: 20m}, limits: {cpu: 200m}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: spinner, namespace: hpa}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: spinner}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 10}}
`
	n.proc.must(t, "create", "namespace", "hpa")
	n.dumpOnFailure(t, "hpa")
	n.proc.mustIn(t, manifest, "apply", "-f", "-")
	eventually(t, "the HPA scaled the spinner up on its CPU", 150*time.Second, func() bool {
		replicas, err := strconv.Atoi(n.get("hpa", "spinner", "{.status.desiredReplicas}", "-n", "hpa"))
		return err == nil && replicas > 1
	})
	if util := n.get("hpa", "spinner", "{.status.currentMetrics[0].resource.current.averageUtilization}", "-n", "hpa"); util == "" {
		t.Errorf("the HPA reports no current utilization")
	}
	t.Logf("kubectl get hpa:\n%s", n.proc.must(t, "get", "hpa", "-n", "hpa"))
	n.proc.must(t, "delete", "namespace", "hpa", "--wait=false")
}
