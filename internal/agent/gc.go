package agent

import (
	"math"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/skiffkube/skiff/internal/runtime"
)

// GCPolicy says which dead containers and unused images the agent
// removes, as upstream's kubelet garbage collection does.
type GCPolicy struct {
	// ImageHighThresholdPercent is the image filesystem usage (0-100)
	// from which unused images are removed (85; 100 turns image GC by
	// usage off), until usage is under ImageLowThresholdPercent (80).
	ImageHighThresholdPercent int
	ImageLowThresholdPercent  int
	// ImageMinAge is how long an image must have been seen before it may
	// be removed (2 min).
	ImageMinAge time.Duration
	// ContainerMinAge is how old a dead container must be before it may
	// be removed (0).
	ContainerMinAge time.Duration
	// MaxPerPodContainer is how many dead containers of each container of
	// a pod are kept besides the current one (1): the one the status's
	// lastState and `kubectl logs --previous` read.
	MaxPerPodContainer int
}

// DefaultGCPolicy returns upstream's defaults.
func DefaultGCPolicy() GCPolicy {
	return GCPolicy{
		ImageHighThresholdPercent: 85,
		ImageLowThresholdPercent:  80,
		ImageMinAge:               2 * time.Minute,
		MaxPerPodContainer:        1,
	}
}

// withDefaults fills zero fields from DefaultGCPolicy; negative ones
// mean 0.
func (p GCPolicy) withDefaults() GCPolicy {
	d := DefaultGCPolicy()
	if p.ImageHighThresholdPercent == 0 {
		p.ImageHighThresholdPercent = d.ImageHighThresholdPercent
	}
	if p.ImageLowThresholdPercent == 0 {
		p.ImageLowThresholdPercent = d.ImageLowThresholdPercent
	}
	if p.ImageMinAge == 0 {
		p.ImageMinAge = d.ImageMinAge
	}
	if p.MaxPerPodContainer == 0 {
		p.MaxPerPodContainer = d.MaxPerPodContainer
	}
	p.ImageMinAge = max(p.ImageMinAge, 0)
	p.ContainerMinAge = max(p.ContainerMinAge, 0)
	p.MaxPerPodContainer = max(p.MaxPerPodContainer, 0)
	return p
}

// ImageRecord is an image as garbage collection sees it.
type ImageRecord struct {
	ID   string
	Tags []string
	Size int64
	// InUse images are used by a container (in any state) or named by a
	// pod that may still start; Pinned ones must be kept (the sandbox
	// image). Neither is ever removed.
	InUse, Pinned bool
	// FirstSeen is when the agent first saw the image; LastUsed when it
	// last saw it in use (FirstSeen if never).
	FirstSeen, LastUsed time.Time
}

// ImageBytesToFree is how much image GC frees for an image filesystem:
// nothing while usage is under the high threshold, else enough to bring
// it under the low one.
func ImageBytesToFree(fs Amount, p GCPolicy) int64 {
	if fs.Capacity <= 0 || p.ImageHighThresholdPercent >= 100 {
		return 0
	}
	usage := fs.Capacity - max(fs.Available, 0)
	if usage*100 < fs.Capacity*int64(p.ImageHighThresholdPercent) {
		return 0
	}
	return max(usage-fs.Capacity*int64(p.ImageLowThresholdPercent)/100, 0)
}

// AllUnusedImages asks PlanImageGC for every removable image, as reclaim
// under disk pressure does.
const AllUnusedImages = math.MaxInt64

// PlanImageGC chooses the images to remove, least recently used first
// (then first seen first), until their sizes add up to toFree. Images in
// use, pinned, or seen for less than minAge are never chosen. It returns
// the images in the order to remove them and the bytes they free.
func PlanImageGC(images []ImageRecord, toFree int64, minAge time.Duration, now time.Time) ([]ImageRecord, int64) {
	if toFree <= 0 {
		return nil, 0
	}
	var candidates []ImageRecord
	for _, img := range images {
		if !img.InUse && !img.Pinned && now.Sub(img.FirstSeen) >= minAge {
			candidates = append(candidates, img)
		}
	}
	sort.Slice(candidates, func(i, j int) bool {
		a, b := candidates[i], candidates[j]
		switch {
		case !a.LastUsed.Equal(b.LastUsed):
			return a.LastUsed.Before(b.LastUsed)
		case !a.FirstSeen.Equal(b.FirstSeen):
			return a.FirstSeen.Before(b.FirstSeen)
		}
		return a.ID < b.ID
	})
	var (
		out   []ImageRecord
		freed int64
	)
	for _, img := range candidates {
		if freed >= toFree {
			break
		}
		out = append(out, img)
		freed += img.Size
	}
	return out, freed
}

// PlanContainerGC returns the removals of dead containers and sandboxes.
// Of each container of a known pod, the current one, every running one
// and the newest MaxPerPodContainer dead ones are kept; older dead ones
// past ContainerMinAge go, and so do the pod's old sandboxes that are
// stopped and hold nothing kept. When allKnown (every source of pods was
// read), the sandboxes and dead containers of pods that are not known go
// too, once nothing of them runs.
func PlanContainerGC(observed RuntimeState, known map[types.UID]bool, allKnown bool, now time.Time, p GCPolicy) []Action {
	uids := make([]types.UID, 0, len(observed.Pods))
	for uid := range observed.Pods {
		uids = append(uids, uid)
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	var acts []Action
	for _, uid := range uids {
		ps := observed.Pods[uid]
		switch {
		case known[uid]:
			acts = append(acts, gcKnownPod(uid, ps, now, p)...)
		case allKnown:
			acts = append(acts, gcGonePod(uid, ps)...)
		}
	}
	return acts
}

// gcKnownPod removes the dead containers of a known pod beyond those
// kept, and its old sandboxes that nothing kept uses.
func gcKnownPod(uid types.UID, ps *PodState, now time.Time, p GCPolicy) []Action {
	var acts []Action
	used := map[string]bool{}
	for _, name := range sortedNames(ps) {
		dead := 0
		for i, c := range ps.Containers[name] {
			keep := i == 0 || running(c)
			if !keep && dead < p.MaxPerPodContainer {
				keep, dead = true, dead+1
			}
			if keep || now.Sub(c.CreatedAt) < p.ContainerMinAge {
				used[c.PodSandboxID] = true
				continue
			}
			acts = append(acts, Action{Kind: RemoveContainer, UID: uid, ID: c.ID, Container: name, Reason: "dead container"})
		}
	}
	for i, sb := range ps.Sandboxes {
		if i > 0 && sb.State != runtime.SandboxReady && !used[sb.ID] {
			acts = append(acts, Action{Kind: RemoveSandbox, UID: uid, ID: sb.ID, Reason: "old sandbox"})
		}
	}
	return acts
}

// gcGonePod removes what is left of a pod that is gone, once nothing of
// it runs (stopping is Plan's work): its sandboxes with their
// containers, and containers without a sandbox.
func gcGonePod(uid types.UID, ps *PodState) []Action {
	for _, sb := range ps.Sandboxes {
		if sb.State == runtime.SandboxReady {
			return nil
		}
	}
	inSandbox := map[string]bool{}
	for _, sb := range ps.Sandboxes {
		inSandbox[sb.ID] = true
	}
	var acts []Action
	for _, name := range sortedNames(ps) {
		for _, c := range ps.Containers[name] {
			if running(c) {
				return nil
			}
			if !inSandbox[c.PodSandboxID] {
				acts = append(acts, Action{Kind: RemoveContainer, UID: uid, ID: c.ID, Container: name, Reason: "pod is gone"})
			}
		}
	}
	for _, sb := range ps.Sandboxes {
		acts = append(acts, Action{Kind: RemoveSandbox, UID: uid, ID: sb.ID, Reason: "pod is gone"})
	}
	return acts
}

func sortedNames(ps *PodState) []string {
	names := make([]string, 0, len(ps.Containers))
	for name := range ps.Containers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// normalizeImage returns an image name as containerd stores it: with a
// registry host ("docker.io"), "library/" for Docker Hub's official
// images and a tag (":latest" without tag or digest).
func normalizeImage(ref string) string {
	name, digest, hasDigest := strings.Cut(ref, "@")
	host, _, hasSlash := strings.Cut(name, "/")
	switch {
	case !hasSlash:
		name = "docker.io/library/" + name
	case !strings.ContainsAny(host, ".:") && host != "localhost":
		name = "docker.io/" + name
	}
	if hasDigest {
		return name + "@" + digest
	}
	if !strings.Contains(name[strings.LastIndexByte(name, '/')+1:], ":") {
		name += ":latest"
	}
	return name
}
