package server

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/skiffkube/skiff/internal/agent/stats"
)

// StatsSource measures the node and its pods. *stats.Collector implements
// it.
type StatsSource interface {
	Summary(ctx context.Context) (*stats.Summary, error)
}

// serveStatsSummary answers GET /stats/summary with the node's Summary
// as JSON, as upstream's kubelet does.
func (s *Server) serveStatsSummary(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Stats == nil {
		http.Error(w, "stats are not served by this node", http.StatusNotImplemented)
		return
	}
	sum, err := s.cfg.Stats.Summary(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data, err := json.Marshal(sum)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}
