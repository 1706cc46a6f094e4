package scheduler

import (
	"context"
	"fmt"

	"github.com/skiffkube/skiff/internal/leader"
)

// LeaderConfig names the Lease that elects the scheduling leader.
type LeaderConfig struct {
	// Namespace and Name of the Lease (kube-system/skiff-scheduler).
	Namespace, Name string
	// Identity of this candidate (hostname plus a random suffix).
	Identity string
}

// RunWithLeaderElection schedules with cfg only while holding the Lease:
// each term runs a fresh Scheduler; losing the Lease stops it and this
// candidate campaigns again. It returns when ctx ends.
func RunWithLeaderElection(ctx context.Context, cfg Config, lc LeaderConfig) error {
	if cfg.Client == nil {
		return fmt.Errorf("scheduler: a client is required")
	}
	if lc.Name == "" {
		lc.Name = "skiff-scheduler"
	}
	return leader.Run(ctx, leader.Config{Client: cfg.Client, Namespace: lc.Namespace, Name: lc.Name, Identity: lc.Identity, Logger: cfg.Logger},
		func(lctx context.Context) error {
			s, err := New(cfg)
			if err != nil {
				return err
			}
			return s.Run(lctx)
		})
}
