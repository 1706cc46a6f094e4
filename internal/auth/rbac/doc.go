// Package rbac evaluates Kubernetes role-based access control: Roles,
// ClusterRoles, RoleBindings and ClusterRoleBindings, with the same matching
// rules as upstream (verbs, API groups, resources and "resource/subresource",
// "*/subresource", resourceNames, non-resource URLs with a trailing "*", and
// "*" wildcards).
//
// The evaluator does no I/O: it reads the RBAC objects through a RuleSource,
// which the API server backs with informer caches. Besides the Authorizer
// the package holds the pieces the RBAC registry and its controllers need:
//
//   - RulesFor, for SelfSubjectRulesReview;
//   - the escalation and bind checks (ConfirmNoEscalation, BindAllowed,
//     RoleWriteAllowed, BindingWriteAllowed);
//   - aggregation of ClusterRoles by aggregationRule (AggregatedRules);
//   - the default ClusterRoles and ClusterRoleBindings and their
//     reconciliation (DefaultClusterRoles, DefaultClusterRoleBindings,
//     ReconcileClusterRole, ReconcileClusterRoleBinding).
//
// Masters is the separate, tiny authorizer that allows everything to the
// system:masters group, as upstream does ahead of RBAC.
package rbac
