// Package server is the node agent's own HTTPS endpoint, the counterpart
// of upstream's kubelet API on port 10250. The API server reaches it to
// serve pods/log, pods/exec, pods/attach, pods/portforward and
// nodes/proxy.
//
// Routes (all require a client certificate signed by the cluster CA whose
// holder Config.Authorizer allows; see authz.go):
//
//	GET  /healthz
//	GET  /containerLogs/{namespace}/{pod}/{container}?follow&previous&tailLines&sinceSeconds&sinceTime&timestamps&limitBytes
//	*    /exec/{namespace}/{pod}[/{uid}]/{container}?command=...&input&output&error&tty
//	*    /attach/{namespace}/{pod}[/{uid}]/{container}?input&output&error&tty
//	*    /portForward/{namespace}/{pod}[/{uid}]
//
// Authorization follows upstream's kubelet in Webhook mode: a request maps
// to a verb on a subresource of the node (RequestAttributes: /stats →
// nodes/stats, /metrics → nodes/metrics, /logs → nodes/log, /spec →
// nodes/spec, everything else → nodes/proxy; GET → get, POST → create,
// ...), and a SARAuthorizer asks the API server with a SubjectAccessReview,
// remembering answers (allowed 5 minutes, denied 30 seconds). Denials are
// 403 "Forbidden (user=..., verb=..., resource=nodes, subresource=...)".
//
// Logs are read from the CRI log files the runtime writes under the pod's
// log directory (crilog.go parses them; logs.go serves them, following
// the file while the container runs). Exec, attach and port-forward ask
// the runtime (Streamer, satisfied by *cri.Runtime) for a URL of its
// streaming server and proxy the client's upgraded connection there:
// SPDY passes through byte for byte; WebSocket remote command protocols
// (v5.channel.k8s.io, v4.channel.k8s.io), which older runtimes do not
// speak, are translated to SPDY here (wsexec.go); and port-forward's
// SPDY-over-WebSocket tunnel is unwrapped into plain SPDY (tunnel.go).
//
// The server learns which sandbox and containers make up a pod through the
// Pods interface; RuntimePods implements it over a runtime.Runtime and the
// agent's data directory.
package server
