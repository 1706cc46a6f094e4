package agent

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// gcState is what garbage collection remembers. It is owned by the Run
// goroutine.
type gcState struct {
	// images are the images seen, by ID: when first seen and last seen
	// in use (the runtime does not say).
	images map[string]*imageUse
	// next is when the next periodic pass is due.
	next time.Time
}

type imageUse struct {
	firstSeen, lastUsed time.Time
}

// collectGarbage runs a garbage collection pass when one is due and
// returns when the next is: dead containers beyond those kept, and
// unused images while the image filesystem is over the high threshold.
// Nothing is removed until every source of pods was read.
func (a *Agent) collectGarbage(ctx context.Context, desired []*corev1.Pod, observed RuntimeState, now time.Time, complete bool, log *slog.Logger) time.Time {
	if now.Before(a.gc.next) {
		return a.gc.next
	}
	a.gc.next = now.Add(a.cfg.GCPeriod)
	if !complete {
		return a.gc.next
	}
	a.removeDeadContainers(ctx, desired, observed, now, log)
	if a.cfg.Stats == nil {
		return a.gc.next // hollow nodes: no disk to measure
	}
	stats, err := a.cfg.Stats.NodeStats(ctx)
	if err != nil {
		warn(ctx, log, "measuring the image filesystem", "err", err)
		return a.gc.next
	}
	toFree := ImageBytesToFree(stats.ImageFS, a.cfg.GCPolicy)
	if _, err := a.freeImages(ctx, desired, observed, toFree, now, log); err != nil {
		warn(ctx, log, "image garbage collection", "err", err)
	}
	return a.gc.next
}

// reclaim frees node-level disk before any pod is evicted, as upstream
// does: it removes every dead container not kept and every unused
// image. It says whether anything was removed.
func (a *Agent) reclaim(ctx context.Context, desired []*corev1.Pod, observed RuntimeState, now time.Time, log *slog.Logger) bool {
	n := a.removeDeadContainers(ctx, desired, observed, now, log)
	freed, err := a.freeImages(ctx, desired, observed, AllUnusedImages, now, log)
	if err != nil {
		warn(ctx, log, "reclaiming images", "err", err)
	}
	if n == 0 && freed == 0 {
		return false
	}
	log.Info("reclaimed disk before eviction", "removals", n, "imageBytes", freed)
	return true
}

// removeDeadContainers removes the dead containers and sandboxes that
// PlanContainerGC chooses and returns how many removals it asked.
func (a *Agent) removeDeadContainers(ctx context.Context, desired []*corev1.Pod, observed RuntimeState, now time.Time, log *slog.Logger) int {
	known := make(map[types.UID]bool, len(desired))
	for _, p := range desired {
		known[p.UID] = true
	}
	acts := PlanContainerGC(observed, known, true, now, a.cfg.GCPolicy)
	a.execute(ctx, acts, observed, log)
	return len(acts)
}

// freeImages notes the images present and in use, then removes unused
// ones, least recently used first, until toFree bytes are freed. It
// returns the bytes freed.
func (a *Agent) freeImages(ctx context.Context, desired []*corev1.Pod, observed RuntimeState, toFree int64, now time.Time, log *slog.Logger) (int64, error) {
	records, err := a.observeImages(ctx, desired, observed, now)
	if err != nil {
		return 0, err
	}
	plan, _ := PlanImageGC(records, toFree, a.cfg.GCPolicy.ImageMinAge, now)
	var freed int64
	for _, img := range plan {
		if err := a.cfg.Runtime.RemoveImage(ctx, img.ID); err != nil {
			warn(ctx, log, "removing image", "image", img.ID, "tags", img.Tags, "err", err)
			continue
		}
		log.Info("removed unused image", "image", img.ID, "tags", img.Tags, "size", img.Size)
		delete(a.gc.images, img.ID)
		freed += img.Size
	}
	return freed, nil
}

// observeImages lists the images, updates when each was first seen and
// last used, forgets those gone and returns them as GC sees them.
func (a *Agent) observeImages(ctx context.Context, desired []*corev1.Pod, observed RuntimeState, now time.Time) ([]ImageRecord, error) {
	images, err := a.cfg.Runtime.ListImages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	inUse := a.imagesInUse(desired, observed)
	seen := make(map[string]bool, len(images))
	records := make([]ImageRecord, 0, len(images))
	for _, img := range images {
		seen[img.ID] = true
		use := a.gc.images[img.ID]
		if use == nil {
			use = &imageUse{firstSeen: now, lastUsed: now}
			a.gc.images[img.ID] = use
		}
		r := ImageRecord{ID: img.ID, Tags: img.Tags, Size: int64(img.Size), Pinned: img.Pinned}
		r.InUse = inUse[img.ID] || slices.ContainsFunc(img.Tags, func(t string) bool { return inUse[t] })
		r.Pinned = r.Pinned || slices.ContainsFunc(img.Tags, func(t string) bool { return a.pinned[t] })
		if r.InUse {
			use.lastUsed = now
		}
		r.FirstSeen, r.LastUsed = use.firstSeen, use.lastUsed
		records = append(records, r)
	}
	for id := range a.gc.images {
		if !seen[id] {
			delete(a.gc.images, id)
		}
	}
	return records, nil
}

// imagesInUse are the image IDs and names that containers in the runtime
// use, in any state, and the names the containers of pods that may
// still start ask for (a node without a registry could not pull them
// back).
func (a *Agent) imagesInUse(desired []*corev1.Pod, observed RuntimeState) map[string]bool {
	out := map[string]bool{}
	for _, ps := range observed.Pods {
		for _, cs := range ps.Containers {
			for _, c := range cs {
				out[c.ImageRef] = true
				out[c.Image] = true
				out[normalizeImage(c.Image)] = true
			}
		}
	}
	for _, p := range desired {
		if terminalPhase(p.Status.Phase) || p.DeletionTimestamp != nil {
			continue
		}
		for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
			for _, c := range list {
				out[c.Image], out[normalizeImage(c.Image)] = true, true
			}
		}
	}
	delete(out, "")
	return out
}
