// Package nodeipam gives every Node a pod CIDR (spec.podCIDR and
// spec.podCIDRs) from the cluster CIDR, which the node's CNI bridge then
// hands out to its pods.
package nodeipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// Config is what the controller needs.
type Config struct {
	// Client patches Nodes.
	Client kubernetes.Interface
	// ClusterCIDR is split into per-node ranges of NodeMaskSize bits
	// (24 when zero).
	ClusterCIDR  string
	NodeMaskSize int
	// Nodes is the shared informer.
	Nodes coreinformers.NodeInformer
	// Recorder receives CIDRNotAvailable events; nil records none.
	Recorder record.EventRecorder
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// Controller allocates pod CIDRs to nodes.
type Controller struct {
	// client patches nodes.
	client kubernetes.Interface
	// nodes reads the informer's cache.
	nodes corelisters.NodeLister
	// recorder records allocation failures.
	recorder record.EventRecorder
	// mu guards ranges, which informer handlers and workers share.
	mu     sync.Mutex
	ranges *Ranges
	// loop runs the workers over node names.
	loop kit.Loop
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Nodes == nil {
		return nil, errors.New("node IPAM: client and node informer are required")
	}
	if cfg.NodeMaskSize == 0 {
		cfg.NodeMaskSize = 24
	}
	ranges, err := NewRanges(cfg.ClusterCIDR, cfg.NodeMaskSize)
	if err != nil {
		return nil, fmt.Errorf("node IPAM: %w", err)
	}
	c := &Controller{client: cfg.Client, nodes: cfg.Nodes.Lister(), recorder: cfg.Recorder, ranges: ranges}
	c.loop = kit.Loop{
		Name:   "node-ipam",
		Queue:  kit.NewQueue("node-ipam"),
		Sync:   c.sync,
		Synced: []cache.InformerSynced{cfg.Nodes.Informer().HasSynced},
		Logger: cfg.Logger,
	}
	enqueue := kit.Enqueue(c.loop.Queue)
	_, err = cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.observe(obj); enqueue(obj) },
		UpdateFunc: func(_, obj any) { c.observe(obj); enqueue(obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if n, ok := obj.(*corev1.Node); ok {
				c.mu.Lock()
				defer c.mu.Unlock()
				for _, cidr := range podCIDRs(n) {
					c.ranges.Release(cidr)
				}
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("node IPAM: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx is done. One worker is enough: allocation is
// serialised anyway.
func (c *Controller) Run(ctx context.Context, workers int) error { return c.loop.Run(ctx, workers) }

// observe marks a node's existing CIDRs as used, so that allocations
// never hand them out again (nodes arrive before workers start).
func (c *Controller) observe(obj any) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cidr := range podCIDRs(n) {
		_ = c.ranges.Occupy(cidr) // a CIDR from another range is the admin's business
	}
}

func podCIDRs(n *corev1.Node) []string {
	if len(n.Spec.PodCIDRs) > 0 {
		return n.Spec.PodCIDRs
	}
	if n.Spec.PodCIDR != "" {
		return []string{n.Spec.PodCIDR}
	}
	return nil
}

// sync gives a node without a pod CIDR the next free one.
func (c *Controller) sync(ctx context.Context, name string) error {
	n, err := c.nodes.Get(name)
	if err != nil {
		return err
	}
	if len(podCIDRs(n)) > 0 || n.DeletionTimestamp != nil {
		return nil
	}
	c.mu.Lock()
	cidr, err := c.ranges.Allocate()
	c.mu.Unlock()
	if err != nil {
		if c.recorder != nil {
			c.recorder.Eventf(n, corev1.EventTypeWarning, "CIDRNotAvailable", "Node %s status is now: CIDRNotAvailable", name)
		}
		return fmt.Errorf("node %s: %w", name, err)
	}
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"uid": n.UID},
		"spec":     map[string]any{"podCIDR": cidr, "podCIDRs": []string{cidr}},
	})
	if _, err := c.client.CoreV1().Nodes().Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		c.mu.Lock()
		c.ranges.Release(cidr)
		c.mu.Unlock()
		return fmt.Errorf("assigning pod CIDR %s to node %s: %w", cidr, name, err)
	}
	return nil
}
