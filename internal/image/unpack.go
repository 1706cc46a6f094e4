package image

import (
	"context"
	"fmt"
	"time"

	diffapi "github.com/containerd/containerd/api/services/diff/v1"
	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/api/types"
)

// unpack applies the layers in order, committing each as a snapshot named
// by its chain ID, so the CRI plugin finds the image's root filesystem
// ready. Layers already unpacked are skipped.
func (c *conn) unpack(ctx context.Context, l *layout, layers []Descriptor, diffIDs []string, snapshotter string) error {
	chain := ChainIDs(diffIDs)
	for i, layer := range layers {
		_, err := c.snapshots.Stat(ctx, &snapshotsapi.StatSnapshotRequest{Snapshotter: snapshotter, Key: chain[i]})
		if err == nil {
			continue
		}
		if !errNotFound(err) {
			return fmt.Errorf("stat snapshot %s: %w", chain[i], err)
		}
		parent := ""
		if i > 0 {
			parent = chain[i-1]
		}
		if err := c.applyLayer(ctx, layer, diffIDs[i], chain[i], parent, snapshotter); err != nil {
			return fmt.Errorf("unpack layer %d (%s): %w", i, layer.Digest, err)
		}
	}
	return nil
}

// applyLayer prepares an active snapshot on parent, extracts the layer
// into it with the diff service and commits it as chainID.
func (c *conn) applyLayer(ctx context.Context, layer Descriptor, diffID, chainID, parent, snapshotter string) error {
	key := fmt.Sprintf("extract-%d %s", time.Now().UnixNano(), chainID)
	prep, err := c.snapshots.Prepare(ctx, &snapshotsapi.PrepareSnapshotRequest{
		Snapshotter: snapshotter, Key: key, Parent: parent,
	})
	if err != nil {
		return fmt.Errorf("prepare snapshot: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = c.snapshots.Remove(context.WithoutCancel(ctx), &snapshotsapi.RemoveSnapshotRequest{Snapshotter: snapshotter, Key: key})
		}
	}()
	applied, err := c.diff.Apply(ctx, &diffapi.ApplyRequest{
		Diff:   &types.Descriptor{MediaType: layer.MediaType, Digest: layer.Digest, Size: layer.Size},
		Mounts: prep.GetMounts(),
	})
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if got := applied.GetApplied().GetDigest(); got != diffID {
		return fmt.Errorf("layer unpacked to %s, config says %s", got, diffID)
	}
	_, err = c.snapshots.Commit(ctx, &snapshotsapi.CommitSnapshotRequest{Snapshotter: snapshotter, Name: chainID, Key: key})
	if err != nil && !errAlreadyExists(err) {
		return fmt.Errorf("commit snapshot: %w", err)
	}
	committed = err == nil
	return nil
}
