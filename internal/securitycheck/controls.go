package securitycheck

// Controls are the CIS Kubernetes Benchmark controls that apply to Skiff
// (section numbers of the benchmark's API server, etcd, file and worker
// node chapters), in the benchmark's order.
func Controls() []Control {
	return []Control{
		{ID: "1.1.12", Title: "the data directory is 0700", Check: checkDataDirMode},
		{ID: "1.1.19", Title: "private keys are 0600", Check: checkKeyModes},
		{ID: "1.2.1", Title: "anonymous requests are refused", Check: checkAnonymous},
		{ID: "1.2.6", Title: "authorization is not AlwaysAllow", Check: checkNonAdminDenied},
		{ID: "1.2.7", Title: "the Node authorizer confines nodes", Check: checkNodeAuthorizer},
		{ID: "1.2.8", Title: "RBAC authorizes requests", Check: checkRBAC},
		{ID: "1.2.12", Title: "admission: ServiceAccount", Check: checkServiceAccountAdmission},
		{ID: "1.2.13", Title: "admission: NamespaceLifecycle", Check: checkNamespaceLifecycle},
		{ID: "1.2.14", Title: "admission: NodeRestriction", Check: checkNodeRestriction},
		{ID: "1.2.15", Title: "profiling is disabled", Check: checkProfiling},
		{ID: "1.2.16", Title: "audit log is written", Check: checkAudit},
		{ID: "1.2.27", Title: "encryption provider config is present", Check: checkEncryptionConfigFile},
		{ID: "1.2.28", Title: "secrets are encrypted by a real provider", Check: checkEncryptionProviders},
		{ID: "1.2.29", Title: "TLS >= 1.2 with strong ciphers only", Check: checkTLS},
		{ID: "4.2.1", Title: "agent endpoints refuse anonymous requests", Check: checkAgentAnonymous},
		{ID: "5.2.1", Title: "admission: PodSecurity enforces namespace levels", Check: checkPodSecurity},
	}
}
