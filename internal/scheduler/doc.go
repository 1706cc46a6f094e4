// Package scheduler is the scheduling loop around the pure placement core.
//
// It watches pods, nodes, namespaces, volumes, PodDisruptionBudgets and
// PriorityClasses with client-go informers and keeps a placement.Snapshot
// current. Pending pods that name this scheduler wait in a Queue ordered by
// priority then creation time. One loop pops a pod, asks placement.Schedule
// for a node, assumes the pod onto it in the snapshot and binds it through
// pods/binding in the background (forgetting the assumption if the bind
// fails). A pod that fits nowhere gets PodScheduled=False with the
// placement.FitError message and a FailedScheduling event; it may preempt
// lower-priority pods (placement.Preempt: status.nominatedNodeName is set and
// the victims deleted). It then waits, backed off, until a cluster event
// that could make it fit (a node added or changed, a pod deleted) moves it
// back to the active queue.
//
// A pod nominated by preemption holds the room it freed: until it is bound
// the snapshot counts it on the nominated node for pods of lower priority,
// and while its victims terminate it preempts nothing more.
//
// Config.Profiles (read by LoadConfigFile from a scheduler config file)
// serve several schedulerNames, each with its own placement.Config.
// Explain answers "why is this pod pending" from a snapshot read through
// the API: every node's reasons, what preemption would do, the best nodes.
//
// RunWithLeaderElection runs the scheduler only while holding a Lease, so
// several servers can run it and only one schedules.
package scheduler
