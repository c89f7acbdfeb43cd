/**
 * The resource types costguard itself produces: the Terraform plan gate, the Kubernetes admission
 * webhook, the inventories (AWS, sandbox) and the guide's examples. Requests of other types are
 * legitimate (a policy may govern types only your own requests carry); this list is what a policy's
 * scope is compared with to catch a misspelt type that would match nothing.
 */
export const KNOWN_RESOURCE_TYPES = [
  "compute/instance",
  "compute/k8s-pod",
  "compute/k8s-deployment",
  "compute/k8s-statefulset",
  "compute/k8s-replicaset",
  "compute/k8s-daemonset",
  "compute/k8s-job",
  "compute/k8s-cronjob",
  "storage/volume",
  "storage/snapshot",
  "database/instance",
  "network/load-balancer",
] as const;
