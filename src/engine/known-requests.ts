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

/**
 * The request fields costguard's gates, inventories and price book set, as check paths (`tags.` takes any
 * key). Like the types, a field outside it may be one of the user's own; this is what a check's
 * field is compared with to catch a misspelling that would leave the check unverified everywhere.
 */
export const KNOWN_REQUEST_FIELDS = [
  "type",
  "id",
  "name",
  "provider",
  "account",
  "region",
  "namespace",
  "tags",
  "specs.vcpus",
  "specs.memory_gb",
  "specs.instance_type",
  "specs.instance_family",
  "specs.gpus",
  "specs.accelerators",
  "specs.os",
  "specs.spot",
  "specs.preemptible",
  "specs.launch_template",
  "specs.size_gb",
  "specs.volume_type",
  "specs.volume_sku",
  "specs.iops",
  "specs.throughput_mibps",
  "specs.storage_gb",
  "specs.storage_type",
  "specs.engine",
  "specs.multi_az",
  "specs.replicas",
  "specs.pod_vcpus",
  "specs.pod_memory_gb",
  "specs.containers",
  "specs.containers_missing_requests",
  "cost.monthly",
  "cost.currency",
  "cost.status",
  // What scanned resources carry besides (inventories: src/inventory/types.ts).
  "state",
  "created_at",
  "hourly_cost",
  "monthly_cost",
  "currency",
  "attached_to",
  "detached_at",
  "metrics.avg_cpu_percent",
  "metrics.avg_network_bytes",
  "metrics.window_days",
] as const;
