// Package servicelb is Skiff's built-in service load balancer: Services of
// type LoadBalancer (without a loadBalancerClass naming another
// implementation) get the InternalIP addresses of the cluster's ready,
// schedulable nodes as their status.loadBalancer.ingress, and every
// node's service proxy accepts the Service's port on those addresses.
// It makes `type: LoadBalancer` usable on bare metal, as k3s's ServiceLB
// does, without a cloud provider.
package servicelb
