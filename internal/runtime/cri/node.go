package cri

import (
	"context"
	"fmt"

	"github.com/skiffkube/skiff/internal/image"
	"github.com/skiffkube/skiff/internal/network"
	"github.com/skiffkube/skiff/internal/runtime/containerd"
)

// NodeOptions configure StartNode.
type NodeOptions struct {
	// Dir holds containerd's files (e.g. <data>/containerd).
	Dir string
	// PodCIDR, if known, gets the CNI configuration written before
	// containerd starts; otherwise call Node.SetPodCIDR later (pods
	// cannot get a network until then).
	PodCIDR string
	// Network tunes the CNI configuration (bridge and network names).
	Network network.BridgeOptions
	// ImagesDir holds image tarballs (*.tar) to import at start, e.g.
	// the output of image.BuildAll; "" imports nothing.
	ImagesDir string
	// Containerd tunes the process; its Dir is set from Dir.
	Containerd containerd.Options
}

// Node is a started containerd with a connected runtime.
type Node struct {
	*Runtime
	// Manager owns the containerd process.
	Manager *containerd.Manager
	network network.BridgeOptions
}

// StartNode starts an owned containerd (stopped when ctx ends), writes
// the CNI configuration if the pod CIDR is known, imports the images of
// ImagesDir and connects a Runtime. Wait on Node.Manager.Done() after
// ctx ends to know containerd has exited.
func StartNode(ctx context.Context, opts NodeOptions) (*Node, error) {
	copts := opts.Containerd
	copts.Dir = opts.Dir
	m, err := containerd.NewManager(copts)
	if err != nil {
		return nil, err
	}
	n := &Node{Manager: m, network: opts.Network}
	if opts.PodCIDR != "" {
		if err := n.SetPodCIDR(opts.PodCIDR); err != nil {
			return nil, err
		}
	}
	if err := m.Start(ctx); err != nil {
		return nil, err
	}
	if opts.ImagesDir != "" {
		imp := &image.Importer{Socket: m.Socket(), Snapshotter: m.Snapshotter()}
		if _, err := imp.ImportDir(ctx, opts.ImagesDir); err != nil {
			return nil, fmt.Errorf("node images: %w", err)
		}
	}
	rt, err := New(ctx, m.Endpoint())
	if err != nil {
		return nil, err
	}
	n.Runtime = rt
	return n, nil
}

// SetPodCIDR writes (or rewrites) the CNI configuration for the node's
// pod CIDR; containerd picks the file up by itself.
func (n *Node) SetPodCIDR(podCIDR string) error {
	_, err := network.WriteConfig(n.Manager.CNIConfDir(), podCIDR, n.network)
	if err != nil {
		return fmt.Errorf("node network: %w", err)
	}
	return nil
}
