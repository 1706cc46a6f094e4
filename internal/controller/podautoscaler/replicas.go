package podautoscaler

import (
	"errors"
	"fmt"
	"math"
)

// DefaultTolerance is the relative distance from the target within which
// the autoscaler keeps the replica count (upstream's default, 10%).
const DefaultTolerance = 0.1

// podState classifies one pod for the replica calculation, in the order
// upstream checks: ignored first, then not yet ready (pending, or not
// ready for CPU), then missing metrics.
type podState int

const (
	// podOK has a metric and counts as is.
	podOK podState = iota
	// podIgnored is deleting or failed: left out entirely.
	podIgnored
	// podUnready is pending or not ready: counted as using nothing when
	// scaling up, left out otherwise.
	podUnready
	// podMissing has no metric: counted at the target when scaling down
	// and as using nothing when scaling up.
	podMissing
)

// podSample is one pod's usage and request of the metric's resource, in
// milli-units (millicores, or millibytes for memory).
type podSample struct {
	state   podState
	usage   int64
	request int64
}

// metricTarget is what a metric aims at: an average utilization in
// percent of the request, or an average value per pod in milli-units.
type metricTarget struct {
	utilization bool
	value       int64
}

// metricResult is a replica proposal for one metric, with what the status
// reports: the average utilization (percent, utilization targets only)
// and the raw average usage per pod in milli-units.
type metricResult struct {
	replicas    int32
	utilization int32
	average     int64
}

// errNoPods is returned when the selector matches no pod to measure.
var errNoPods = errors.New("no pods returned by selector while calculating replica count")

// computeReplicas proposes a replica count for one metric from the pods'
// samples: the usage ratio to the target over the ready pods with metrics
// times their number, rounded up, unless within tolerance; then, if pods
// miss metrics or are not ready, the ratio is recomputed with those pods
// assumed at the target (missing, scale-down) or idle (scale-up), and the
// change is dropped if it falls within tolerance or flips direction.
func computeReplicas(current int32, samples []podSample, t metricTarget, tolerance float64) (metricResult, error) {
	if t.value <= 0 {
		return metricResult{}, fmt.Errorf("invalid target value %d", t.value)
	}
	var ready, missing, unready []podSample
	for _, s := range samples {
		switch s.state {
		case podOK:
			ready = append(ready, s)
		case podMissing:
			missing = append(missing, s)
		case podUnready:
			unready = append(unready, s)
		}
	}
	if len(ready)+len(missing)+len(unready) == 0 {
		return metricResult{}, errNoPods
	}
	if len(ready) == 0 {
		return metricResult{}, errors.New("did not receive metrics for any ready pods")
	}
	ratio, res, err := usageRatio(ready, t)
	if err != nil {
		return metricResult{}, err
	}
	scaleUpWithUnready := len(unready) > 0 && ratio > 1
	if !scaleUpWithUnready && len(missing) == 0 {
		if math.Abs(1-ratio) <= tolerance {
			res.replicas = current
		} else {
			res.replicas = int32(math.Ceil(ratio * float64(len(ready))))
		}
		return res, nil
	}
	all := append([]podSample(nil), ready...)
	for _, s := range missing {
		if ratio < 1 {
			s.usage = s.request // at 100% of its request (or at the target value)
			if !t.utilization {
				s.usage = t.value
			}
		} else {
			s.usage = 0
		}
		all = append(all, s)
	}
	if scaleUpWithUnready {
		for _, s := range unready {
			s.usage = 0
			all = append(all, s)
		}
	}
	newRatio, _, err := usageRatio(all, t)
	if err != nil {
		return metricResult{}, err
	}
	if math.Abs(1-newRatio) <= tolerance || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1) {
		res.replicas = current
		return res, nil
	}
	n := int32(math.Ceil(newRatio * float64(len(all))))
	if (newRatio < 1 && n > current) || (newRatio > 1 && n < current) {
		n = current
	}
	res.replicas = n
	return res, nil
}

// usageRatio is the samples' usage relative to the target, with the
// average utilization and value the status reports.
func usageRatio(samples []podSample, t metricTarget) (float64, metricResult, error) {
	var usage, request int64
	for _, s := range samples {
		usage += s.usage
		request += s.request
	}
	res := metricResult{average: usage / int64(len(samples))}
	if !t.utilization {
		return float64(usage) / float64(len(samples)) / float64(t.value), res, nil
	}
	if request <= 0 {
		return 0, res, errors.New("no metrics returned matched known pods")
	}
	// Whole percents, as the status reports them.
	res.utilization = int32(usage * 100 / request)
	return float64(res.utilization) / float64(t.value), res, nil
}
