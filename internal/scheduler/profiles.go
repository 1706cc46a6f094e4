package scheduler

import (
	"errors"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/skiffkube/skiff/internal/scheduler/placement"
)

// profile is one schedulerName this scheduler serves.
type profile struct {
	// cfg places the profile's pods.
	cfg placement.Config
	// recorder writes events with the profile's name as their source.
	recorder record.EventRecorder
}

// newProfiles validates the profiles and indexes them by name.
func newProfiles(ps []placement.Profile) (map[string]*profile, error) {
	out := make(map[string]*profile, len(ps))
	for _, p := range ps {
		if p.SchedulerName == "" {
			return nil, errors.New("a profile needs a schedulerName")
		}
		if out[p.SchedulerName] != nil {
			return nil, fmt.Errorf("profile %q appears twice", p.SchedulerName)
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("profile %q: %w", p.SchedulerName, err)
		}
		out[p.SchedulerName] = &profile{cfg: p.Config}
	}
	return out, nil
}

// profileOf returns the profile of a pod the scheduler queued (only pods
// naming one of its profiles are queued).
func (s *Scheduler) profileOf(pod *corev1.Pod) *profile {
	if p := s.profiles[pod.Spec.SchedulerName]; p != nil {
		return p
	}
	return s.profiles[s.cfg.Profiles[0].SchedulerName]
}

// LoadConfigFile reads a scheduler config file (see placement.LoadProfiles
// for its forms) into profiles for Config.Profiles.
func LoadConfigFile(path string) ([]placement.Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the scheduler config: %w", err)
	}
	profiles, err := placement.LoadProfiles(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return profiles, nil
}

// profileFor picks the profile of a pod's schedulerName from profiles
// (nil: the defaults), and says whether one matched.
func profileFor(profiles []placement.Profile, pod *corev1.Pod) (placement.Config, bool) {
	if len(profiles) == 0 {
		return placement.Config{}, pod.Spec.SchedulerName == DefaultSchedulerName
	}
	for _, p := range profiles {
		if p.SchedulerName == pod.Spec.SchedulerName {
			return p.Config, true
		}
	}
	return profiles[0].Config, false
}
