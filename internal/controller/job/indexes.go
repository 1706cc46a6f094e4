package job

import (
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// noIndex is the index of a pod without a valid completion index.
const noIndex = -1

// parseIndexes reads an interval list such as "1,3-5,7" (the format of
// status.completedIndexes and status.failedIndexes), keeping the indexes
// below limit. Malformed parts are skipped.
func parseIndexes(s string, limit int) sets.Set[int] {
	out := sets.New[int]()
	if s == "" {
		return out
	}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil || first < 0 {
			continue
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil || last < first {
				continue
			}
		}
		for i := first; i <= last && i < limit; i++ {
			out.Insert(i)
		}
	}
	return out
}

// formatIndexes writes a set of indexes as an interval list, ascending,
// with each run of consecutive indexes as a range ("1,3-5,7").
func formatIndexes(set sets.Set[int]) string {
	idx := sets.List(set)
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(idx[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(idx[j]))
		}
		i = j + 1
	}
	return b.String()
}

// podIndex returns a pod's completion index from its annotation (or, for
// pods created by other controllers' versions, its label), or noIndex.
func podIndex(p *corev1.Pod) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		v, ok = p.Labels[batchv1.JobCompletionIndexAnnotation]
	}
	if !ok {
		return noIndex
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return noIndex
	}
	return i
}

// podIndexFailures returns the failure count recorded on a pod for its
// index (batch.kubernetes.io/job-index-failure-count), 0 if none.
func podIndexFailures(p *corev1.Pod) int {
	n, err := strconv.Atoi(p.Annotations[batchv1.JobIndexFailureCountAnnotation])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// missingIndexes returns up to n indexes in [0, completions) that are in
// none of the excluded sets, lowest first.
func missingIndexes(completions, n int, excluded ...sets.Set[int]) []int {
	var out []int
	for i := 0; i < completions && len(out) < n; i++ {
		if !slices.ContainsFunc(excluded, func(s sets.Set[int]) bool { return s.Has(i) }) {
			out = append(out, i)
		}
	}
	return out
}
