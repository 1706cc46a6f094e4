package server

import (
	"context"
	"fmt"
	"log/slog"

	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/record"

	"github.com/skiffkube/skiff/internal/controller/cronjob"
	"github.com/skiffkube/skiff/internal/controller/daemonset"
	"github.com/skiffkube/skiff/internal/controller/deployment"
	"github.com/skiffkube/skiff/internal/controller/disruption"
	"github.com/skiffkube/skiff/internal/controller/endpoints"
	"github.com/skiffkube/skiff/internal/controller/garbagecollector"
	"github.com/skiffkube/skiff/internal/controller/job"
	"github.com/skiffkube/skiff/internal/controller/namespace"
	"github.com/skiffkube/skiff/internal/controller/nodeipam"
	"github.com/skiffkube/skiff/internal/controller/nodelifecycle"
	"github.com/skiffkube/skiff/internal/controller/podautoscaler"
	"github.com/skiffkube/skiff/internal/controller/podgc"
	"github.com/skiffkube/skiff/internal/controller/replicaset"
	"github.com/skiffkube/skiff/internal/controller/resourcequota"
	"github.com/skiffkube/skiff/internal/controller/rootcacert"
	"github.com/skiffkube/skiff/internal/controller/serviceaccount"
	"github.com/skiffkube/skiff/internal/controller/servicelb"
	"github.com/skiffkube/skiff/internal/controller/statefulset"
	"github.com/skiffkube/skiff/internal/controller/ttlafterfinished"
)

// buildControllers constructs every controller of the controller manager
// over the shared informer factory. Constructors only register informer
// handlers; nothing runs until the caller starts the factory and the
// controllers.
func buildControllers(f informers.SharedInformerFactory, cc controllerClients, opts Config, rec record.EventRecorder, logger *slog.Logger) ([]runnable, error) {
	core := f.Core().V1()
	var out []runnable
	add := func(name string, workers int, run func(ctx context.Context, workers int) error) {
		out = append(out, runnable{name: name, workers: workers, run: run})
	}
	log := func(name string) *slog.Logger { return logger.With("controller", name) }

	ns, err := namespace.NewController(namespace.Config{
		Client:   cc.client,
		Metadata: cc.meta,
		Discover: func() ([]*metav1.APIResourceList, error) {
			return discovery.ServerPreferredNamespacedResources(cc.client.Discovery())
		},
		Namespaces: core.Namespaces(),
		Logger:     log("namespace"),
	})
	if err != nil {
		return nil, err
	}
	add("namespace", 2, ns.Run)

	gcConfig := garbagecollector.Config{Metadata: cc.meta, Discover: garbagecollector.DiscoverWith(cc.client.Discovery()), Logger: log("garbagecollector")}
	add("garbagecollector", 4, func(ctx context.Context, workers int) error { return garbagecollector.Run(ctx, gcConfig, workers) })

	sa, err := serviceaccount.New(serviceaccount.Config{Client: cc.client, Namespaces: core.Namespaces(), ServiceAccounts: core.ServiceAccounts(), Logger: log("serviceaccount")})
	if err != nil {
		return nil, err
	}
	add("serviceaccount", 2, sa.Run)

	lb, err := servicelb.New(servicelb.Config{Client: cc.client, Services: core.Services(), Nodes: core.Nodes(), Logger: log("servicelb")})
	if err != nil {
		return nil, err
	}
	add("servicelb", 2, lb.Run)

	if ca := cc.rest.TLSClientConfig.CAData; len(ca) > 0 {
		rc, err := rootcacert.New(rootcacert.Config{Client: cc.client, CA: ca, Namespaces: core.Namespaces(), ConfigMaps: core.ConfigMaps(), Logger: log("root-ca-cert-publisher")})
		if err != nil {
			return nil, err
		}
		add("root-ca-cert-publisher", 2, rc.Run)
	}

	eps, err := endpoints.NewEndpoints(endpoints.EndpointsConfig{Client: cc.client, Services: core.Services(), Pods: core.Pods(), Endpoints: core.Endpoints(), Logger: log("endpoints")})
	if err != nil {
		return nil, err
	}
	add("endpoints", 4, eps.Run)
	slices, err := endpoints.NewSlices(endpoints.SlicesConfig{Client: cc.client, Services: core.Services(), Pods: core.Pods(), Nodes: core.Nodes(),
		EndpointSlices: f.Discovery().V1().EndpointSlices(), Logger: log("endpointslice")})
	if err != nil {
		return nil, err
	}
	add("endpointslice", 4, slices.Run)
	mirror, err := endpoints.NewMirror(endpoints.MirrorConfig{Client: cc.client, Services: core.Services(), Endpoints: core.Endpoints(),
		EndpointSlices: f.Discovery().V1().EndpointSlices(), Logger: log("endpointslice-mirroring")})
	if err != nil {
		return nil, err
	}
	add("endpointslice-mirroring", 2, mirror.Run)

	batch := f.Batch().V1()
	jobs, err := job.New(job.Config{Client: cc.client, Jobs: batch.Jobs(), Pods: core.Pods(), Recorder: rec, Logger: log("job")})
	if err != nil {
		return nil, err
	}
	add("job", 5, jobs.Run)
	cron, err := cronjob.New(cronjob.Config{Client: cc.client, CronJobs: batch.CronJobs(), Jobs: batch.Jobs(), Recorder: rec, Logger: log("cronjob")})
	if err != nil {
		return nil, err
	}
	add("cronjob", 2, cron.Run)
	ttl, err := ttlafterfinished.New(ttlafterfinished.Config{Client: cc.client, Jobs: batch.Jobs(), Logger: log("ttl-after-finished")})
	if err != nil {
		return nil, err
	}
	add("ttl-after-finished", 2, ttl.Run)
	gc, err := podgc.New(podgc.Config{Client: cc.client, Pods: core.Pods(), Nodes: core.Nodes(),
		TerminatedPodThreshold: opts.Controllers.TerminatedPodGCThreshold, Logger: log("pod-garbage-collector")})
	if err != nil {
		return nil, err
	}
	add("pod-garbage-collector", 1, gc.Run)

	scales, mapper, err := podautoscaler.NewScaleClient(cc.rest)
	if err != nil {
		return nil, err
	}
	mc, err := metricsclient.NewForConfig(cc.rest)
	if err != nil {
		return nil, fmt.Errorf("metrics client: %w", err)
	}
	hpa, err := podautoscaler.New(podautoscaler.Config{Client: cc.client, Scales: scales, Mapper: mapper,
		Metrics: podautoscaler.ResourceMetricsClient{Client: mc.MetricsV1beta1()},
		HPAs:    f.Autoscaling().V2().HorizontalPodAutoscalers(), Pods: core.Pods(), Recorder: rec, Logger: log("horizontal-pod-autoscaler")})
	if err != nil {
		return nil, err
	}
	add("horizontal-pod-autoscaler", 2, hpa.Run)

	lifecycle, err := nodelifecycle.New(nodelifecycle.Config{
		Client: cc.client, Nodes: core.Nodes(), Leases: f.Coordination().V1().Leases(), Pods: core.Pods(),
		GracePeriod: opts.Controllers.NodeMonitorGracePeriod, MonitorPeriod: opts.Controllers.NodeMonitorPeriod,
		EvictionRate: opts.Controllers.NodeEvictionRate, Recorder: rec, Logger: log("node-lifecycle"),
	})
	if err != nil {
		return nil, err
	}
	add("node-lifecycle", 2, lifecycle.Run)

	apps := f.Apps().V1()
	rsConfig := replicaset.Config{Client: cc.client, Pods: core.Pods(), ReplicaSets: apps.ReplicaSets(),
		ReplicationControllers: core.ReplicationControllers(), Recorder: rec, Logger: log("replicaset")}
	rs, err := replicaset.New(rsConfig)
	if err != nil {
		return nil, err
	}
	add("replicaset", 5, rs.Run)
	rsConfig.Logger = log("replicationcontroller")
	rc, err := replicaset.NewForReplicationControllers(rsConfig)
	if err != nil {
		return nil, err
	}
	add("replicationcontroller", 2, rc.Run)
	deploy, err := deployment.New(deployment.Config{Client: cc.client, Deployments: apps.Deployments(), ReplicaSets: apps.ReplicaSets(),
		Pods: core.Pods(), Recorder: rec, Logger: log("deployment")})
	if err != nil {
		return nil, err
	}
	add("deployment", 5, deploy.Run)
	ds, err := daemonset.New(daemonset.Config{Client: cc.client, DaemonSets: apps.DaemonSets(), Pods: core.Pods(), Nodes: core.Nodes(),
		Revisions: apps.ControllerRevisions(), Recorder: rec, Logger: log("daemonset")})
	if err != nil {
		return nil, err
	}
	add("daemonset", 2, ds.Run)
	sts, err := statefulset.New(statefulset.Config{Client: cc.client, StatefulSets: apps.StatefulSets(), Pods: core.Pods(),
		Claims: core.PersistentVolumeClaims(), Revisions: apps.ControllerRevisions(), Recorder: rec, Logger: log("statefulset")})
	if err != nil {
		return nil, err
	}
	add("statefulset", 2, sts.Run)
	pdb, err := disruption.New(disruption.Config{
		Client: cc.client, Budgets: f.Policy().V1().PodDisruptionBudgets(), Pods: core.Pods(), ReplicaSets: apps.ReplicaSets(),
		Deployments: apps.Deployments(), StatefulSets: apps.StatefulSets(), ReplicationControllers: core.ReplicationControllers(),
		Recorder: rec, Logger: log("disruption"),
	})
	if err != nil {
		return nil, err
	}
	add("disruption", 2, pdb.Run)

	quota, err := resourcequota.New(resourcequota.Config{
		Client: cc.client, Quotas: core.ResourceQuotas(), Pods: core.Pods(), Services: core.Services(), ConfigMaps: core.ConfigMaps(),
		Secrets: core.Secrets(), Claims: core.PersistentVolumeClaims(), ReplicationControllers: core.ReplicationControllers(), Logger: log("resourcequota"),
	})
	if err != nil {
		return nil, err
	}
	add("resourcequota", 2, quota.Run)

	if opts.ClusterCIDR != "" {
		ipam, err := nodeipam.New(nodeipam.Config{Client: cc.client, ClusterCIDR: opts.ClusterCIDR, NodeMaskSize: opts.NodeCIDRMaskSize, Nodes: core.Nodes(), Recorder: rec, Logger: log("node-ipam")})
		if err != nil {
			return nil, fmt.Errorf("node IPAM: %w", err)
		}
		add("node-ipam", 1, ipam.Run)
	}
	return out, nil
}
