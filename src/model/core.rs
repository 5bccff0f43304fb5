//! Kubernetes built-in kinds: core/v1, apps/v1, discovery, networking,
//! admission, apiextensions, certificates, coordination, autoscaling, policy.
//!
//! Field names follow the Kubernetes API reference. Sub-trees meshsim never
//! reads (affinity, volumes, probes' insides, status of controllers) are kept
//! as opaque JSON values so real exports load without noise; everything the
//! mesh derivation reads is typed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::meta::{IntOrString, LabelSelector, ObjectMeta, Opaque, kube_kind, nullable};

kube_kind!(
    /// core/v1 Namespace.
    Namespace { spec: Opaque, status: Opaque }
);

kube_kind!(
    /// core/v1 Pod.
    Pod { spec: PodSpec, status: Option<PodStatus> }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateSpec {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default, deserialize_with = "nullable")]
    pub containers: Vec<Container>,
    #[serde(default, deserialize_with = "nullable")]
    pub init_containers: Vec<Container>,
    #[serde(default, deserialize_with = "nullable")]
    pub ephemeral_containers: Vec<Value>,
    #[serde(default)]
    pub service_account_name: Option<String>,
    /// Deprecated alias of serviceAccountName, still honoured by the API server.
    #[serde(default)]
    pub service_account: Option<String>,
    #[serde(default)]
    pub automount_service_account_token: Option<bool>,
    #[serde(default)]
    pub node_name: Option<String>,
    #[serde(default)]
    pub host_network: Option<bool>,
    #[serde(default)]
    pub host_pid: Option<bool>,
    #[serde(default)]
    pub host_ipc: Option<bool>,
    #[serde(default)]
    pub host_users: Option<bool>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub subdomain: Option<String>,
    #[serde(default, rename = "setHostnameAsFQDN")]
    pub set_hostname_as_fqdn: Option<bool>,
    #[serde(default)]
    pub share_process_namespace: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub volumes: Opaque,
    #[serde(default)]
    pub restart_policy: Option<String>,
    #[serde(default)]
    pub termination_grace_period_seconds: Option<i64>,
    #[serde(default)]
    pub active_deadline_seconds: Option<i64>,
    #[serde(default)]
    pub dns_policy: Option<String>,
    #[serde(default)]
    pub dns_config: Opaque,
    #[serde(default)]
    pub security_context: Opaque,
    #[serde(default)]
    pub image_pull_secrets: Opaque,
    #[serde(default)]
    pub affinity: Opaque,
    #[serde(default)]
    pub scheduler_name: Option<String>,
    #[serde(default)]
    pub tolerations: Opaque,
    #[serde(default)]
    pub host_aliases: Opaque,
    #[serde(default)]
    pub priority_class_name: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub readiness_gates: Opaque,
    #[serde(default)]
    pub runtime_class_name: Option<String>,
    #[serde(default)]
    pub enable_service_links: Option<bool>,
    #[serde(default)]
    pub preemption_policy: Option<String>,
    #[serde(default)]
    pub overhead: Opaque,
    #[serde(default)]
    pub topology_spread_constraints: Opaque,
    #[serde(default)]
    pub os: Opaque,
    #[serde(default)]
    pub scheduling_gates: Opaque,
    #[serde(default)]
    pub resource_claims: Opaque,
    #[serde(default)]
    pub resources: Opaque,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub image_pull_policy: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub command: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub args: Vec<String>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub ports: Vec<ContainerPort>,
    #[serde(default, deserialize_with = "nullable")]
    pub env: Vec<EnvVar>,
    #[serde(default)]
    pub env_from: Opaque,
    #[serde(default)]
    pub resources: Opaque,
    #[serde(default)]
    pub resize_policy: Opaque,
    #[serde(default)]
    pub volume_mounts: Opaque,
    #[serde(default)]
    pub volume_devices: Opaque,
    #[serde(default)]
    pub liveness_probe: Opaque,
    #[serde(default)]
    pub readiness_probe: Opaque,
    #[serde(default)]
    pub startup_probe: Opaque,
    #[serde(default)]
    pub lifecycle: Opaque,
    #[serde(default)]
    pub termination_message_path: Option<String>,
    #[serde(default)]
    pub termination_message_policy: Option<String>,
    #[serde(default)]
    pub security_context: Opaque,
    #[serde(default)]
    pub restart_policy: Option<String>,
    #[serde(default)]
    pub stdin: Option<bool>,
    #[serde(default)]
    pub stdin_once: Option<bool>,
    #[serde(default)]
    pub tty: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default)]
    pub name: Option<String>,
    pub container_port: i64,
    #[serde(default)]
    pub host_port: Option<i64>,
    #[serde(default, rename = "hostIP")]
    pub host_ip: Option<String>,
    #[serde(default)]
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub value_from: Opaque,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    #[serde(default)]
    pub phase: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub conditions: Vec<PodCondition>,
    #[serde(default, rename = "podIP")]
    pub pod_ip: Option<String>,
    #[serde(default, rename = "podIPs")]
    pub pod_ips: Vec<PodIp>,
    #[serde(default, rename = "hostIP")]
    pub host_ip: Option<String>,
    #[serde(default, rename = "hostIPs")]
    pub host_ips: Opaque,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub container_statuses: Opaque,
    #[serde(default)]
    pub init_container_statuses: Opaque,
    #[serde(default)]
    pub ephemeral_container_statuses: Opaque,
    #[serde(default)]
    pub qos_class: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub nominated_node_name: Option<String>,
    #[serde(default)]
    pub resize: Option<String>,
    #[serde(default)]
    pub resource_claim_statuses: Opaque,
    #[serde(default)]
    pub observed_generation: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default)]
    pub last_probe_time: Opaque,
    #[serde(default)]
    pub last_transition_time: Opaque,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub observed_generation: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct PodIp {
    pub ip: String,
}

kube_kind!(
    /// core/v1 Service.
    Service { spec: ServiceSpec, status: Opaque }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(default, deserialize_with = "nullable")]
    pub ports: Vec<ServicePort>,
    /// `None` (no selector) means endpoints are managed by hand.
    #[serde(default)]
    pub selector: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "clusterIP")]
    pub cluster_ip: Option<String>,
    #[serde(default, rename = "clusterIPs")]
    pub cluster_ips: Vec<String>,
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    #[serde(default, rename = "externalIPs")]
    pub external_ips: Vec<String>,
    #[serde(default)]
    pub external_name: Option<String>,
    #[serde(default)]
    pub session_affinity: Option<String>,
    #[serde(default)]
    pub session_affinity_config: Opaque,
    #[serde(default, rename = "loadBalancerIP")]
    pub load_balancer_ip: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub load_balancer_source_ranges: Vec<String>,
    #[serde(default)]
    pub load_balancer_class: Option<String>,
    #[serde(default)]
    pub external_traffic_policy: Option<String>,
    #[serde(default)]
    pub internal_traffic_policy: Option<String>,
    #[serde(default)]
    pub health_check_node_port: Option<i64>,
    #[serde(default)]
    pub publish_not_ready_addresses: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub ip_families: Vec<String>,
    #[serde(default)]
    pub ip_family_policy: Option<String>,
    #[serde(default)]
    pub allocate_load_balancer_node_ports: Option<bool>,
    #[serde(default)]
    pub traffic_distribution: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub app_protocol: Option<String>,
    pub port: i64,
    #[serde(default)]
    pub target_port: Option<IntOrString>,
    #[serde(default)]
    pub node_port: Option<i64>,
}

kube_kind!(
    /// core/v1 Endpoints (deprecated in favour of EndpointSlice, still served).
    Endpoints { subsets: Vec<EndpointSubset> }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSubset {
    #[serde(default, deserialize_with = "nullable")]
    pub addresses: Vec<EndpointAddress>,
    #[serde(default, deserialize_with = "nullable")]
    pub not_ready_addresses: Vec<EndpointAddress>,
    #[serde(default, deserialize_with = "nullable")]
    pub ports: Vec<EndpointPort>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointAddress {
    pub ip: String,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub node_name: Option<String>,
    #[serde(default)]
    pub target_ref: Option<ObjectReference>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPort {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub app_protocol: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub resource_version: Option<String>,
    #[serde(default)]
    pub field_path: Option<String>,
}

kube_kind!(
    /// discovery.k8s.io/v1 EndpointSlice.
    EndpointSlice {
        address_type: Option<String>,
        endpoints: Vec<SliceEndpoint>,
        ports: Vec<EndpointPort>,
    }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SliceEndpoint {
    #[serde(default, deserialize_with = "nullable")]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub conditions: SliceConditions,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub target_ref: Option<ObjectReference>,
    #[serde(default)]
    pub node_name: Option<String>,
    #[serde(default)]
    pub zone: Option<String>,
    #[serde(default)]
    pub hints: Opaque,
    #[serde(default)]
    pub deprecated_topology: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SliceConditions {
    /// Unset means ready (the API's documented default).
    #[serde(default)]
    pub ready: Option<bool>,
    #[serde(default)]
    pub serving: Option<bool>,
    #[serde(default)]
    pub terminating: Option<bool>,
}

kube_kind!(
    /// core/v1 Node: its labels give endpoint locality.
    Node { spec: NodeSpec, status: Opaque }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSpec {
    #[serde(default, rename = "podCIDR")]
    pub pod_cidr: Option<String>,
    #[serde(default, rename = "podCIDRs")]
    pub pod_cidrs: Vec<String>,
    #[serde(default, rename = "providerID")]
    pub provider_id: Option<String>,
    #[serde(default)]
    pub unschedulable: Option<bool>,
    #[serde(default)]
    pub taints: Opaque,
    #[serde(default)]
    pub config_source: Opaque,
    #[serde(default, rename = "externalID")]
    pub external_id: Option<String>,
}

kube_kind!(
    /// core/v1 ServiceAccount.
    ServiceAccount {
        secrets: Opaque,
        image_pull_secrets: Opaque,
        automount_service_account_token: Option<bool>,
    }
);

kube_kind!(
    /// core/v1 Secret: gateways read TLS material from these by name.
    Secret {
        data: BTreeMap<String, String>,
        string_data: BTreeMap<String, String>,
        r#type: Option<String>,
        immutable: Option<bool>,
    }
);

kube_kind!(
    /// core/v1 ConfigMap: the `istio` one carries MeshConfig.
    ConfigMap {
        data: BTreeMap<String, String>,
        binary_data: BTreeMap<String, String>,
        immutable: Option<bool>,
    }
);

kube_kind!(
    /// apps/v1 Deployment.
    Deployment { spec: DeploymentSpec, status: Opaque }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpec {
    #[serde(default)]
    pub replicas: Option<i64>,
    #[serde(default)]
    pub selector: LabelSelector,
    #[serde(default)]
    pub template: PodTemplateSpec,
    #[serde(default)]
    pub strategy: Opaque,
    #[serde(default)]
    pub min_ready_seconds: Option<i64>,
    #[serde(default)]
    pub revision_history_limit: Option<i64>,
    #[serde(default)]
    pub paused: Option<bool>,
    #[serde(default)]
    pub progress_deadline_seconds: Option<i64>,
}

kube_kind!(
    /// apps/v1 StatefulSet.
    StatefulSet { spec: StatefulSetSpec, status: Opaque }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetSpec {
    #[serde(default)]
    pub replicas: Option<i64>,
    #[serde(default)]
    pub selector: LabelSelector,
    #[serde(default)]
    pub template: PodTemplateSpec,
    #[serde(default)]
    pub service_name: Option<String>,
    #[serde(default)]
    pub volume_claim_templates: Opaque,
    #[serde(default)]
    pub pod_management_policy: Option<String>,
    #[serde(default)]
    pub update_strategy: Opaque,
    #[serde(default)]
    pub revision_history_limit: Option<i64>,
    #[serde(default)]
    pub min_ready_seconds: Option<i64>,
    #[serde(default)]
    pub persistent_volume_claim_retention_policy: Opaque,
    #[serde(default)]
    pub ordinals: Option<StatefulSetOrdinals>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct StatefulSetOrdinals {
    #[serde(default)]
    pub start: Option<i64>,
}

kube_kind!(
    /// apps/v1 DaemonSet.
    DaemonSet { spec: DaemonSetSpec, status: Opaque }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetSpec {
    #[serde(default)]
    pub selector: LabelSelector,
    #[serde(default)]
    pub template: PodTemplateSpec,
    #[serde(default)]
    pub update_strategy: Opaque,
    #[serde(default)]
    pub min_ready_seconds: Option<i64>,
    #[serde(default)]
    pub revision_history_limit: Option<i64>,
}

kube_kind!(
    /// apps/v1 ReplicaSet.
    ReplicaSet { spec: ReplicaSetSpec, status: Opaque }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSetSpec {
    #[serde(default)]
    pub replicas: Option<i64>,
    #[serde(default)]
    pub selector: LabelSelector,
    /// A ReplicaSet in a cluster export may omit the template when its Pods
    /// are exported beside it.
    #[serde(default)]
    pub template: Option<PodTemplateSpec>,
    #[serde(default)]
    pub min_ready_seconds: Option<i64>,
}

kube_kind!(
    /// admissionregistration.k8s.io/v1 MutatingWebhookConfiguration: Istio's
    /// sidecar injector decides which pods get a proxy.
    MutatingWebhookConfiguration { webhooks: Vec<Webhook> }
);

kube_kind!(
    /// admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration.
    ValidatingWebhookConfiguration { webhooks: Vec<Webhook> }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub client_config: WebhookClientConfig,
    #[serde(default, deserialize_with = "nullable")]
    pub rules: Vec<RuleWithOperations>,
    #[serde(default)]
    pub failure_policy: Option<String>,
    #[serde(default)]
    pub match_policy: Option<String>,
    #[serde(default)]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(default)]
    pub object_selector: Option<LabelSelector>,
    #[serde(default)]
    pub side_effects: Option<String>,
    #[serde(default)]
    pub timeout_seconds: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub admission_review_versions: Vec<String>,
    /// Mutating webhooks only.
    #[serde(default)]
    pub reinvocation_policy: Option<String>,
    #[serde(default)]
    pub match_conditions: Opaque,
}

impl Webhook {
    /// The path the webhook calls (its service's path, else its URL), which
    /// tells istiod's webhooks (`/inject`, `/validate`) from others.
    pub fn path(&self) -> &str {
        self.client_config
            .service
            .as_ref()
            .and_then(|s| s.path.as_deref())
            .or(self.client_config.url.as_deref())
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookClientConfig {
    #[serde(default)]
    pub service: Option<ServiceReference>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub ca_bundle: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReference {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleWithOperations {
    #[serde(default, deserialize_with = "nullable")]
    pub operations: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub api_groups: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub api_versions: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub resources: Vec<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

kube_kind!(
    /// apiextensions.k8s.io/v1 CustomResourceDefinition: declares kinds, so
    /// objects of a declared kind are not reported as unknown.
    CustomResourceDefinition { spec: CrdSpec, status: Opaque }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrdSpec {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub names: CrdNames,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub versions: Vec<CrdVersion>,
    #[serde(default)]
    pub conversion: Opaque,
    #[serde(default)]
    pub preserve_unknown_fields: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrdNames {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub plural: Option<String>,
    #[serde(default)]
    pub singular: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub short_names: Vec<String>,
    #[serde(default)]
    pub list_kind: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrdVersion {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub served: Option<bool>,
    #[serde(default)]
    pub storage: Option<bool>,
    #[serde(default)]
    pub deprecated: Option<bool>,
    #[serde(default)]
    pub deprecation_warning: Option<String>,
    #[serde(default)]
    pub schema: Opaque,
    #[serde(default)]
    pub subresources: Opaque,
    #[serde(default)]
    pub additional_printer_columns: Opaque,
    #[serde(default)]
    pub selectable_fields: Opaque,
}

kube_kind!(
    /// networking.k8s.io/v1 Ingress.
    Ingress { spec: IngressSpec, status: Opaque }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    #[serde(default)]
    pub ingress_class_name: Option<String>,
    #[serde(default)]
    pub default_backend: Option<IngressBackend>,
    #[serde(default, deserialize_with = "nullable")]
    pub tls: Vec<IngressTls>,
    #[serde(default, deserialize_with = "nullable")]
    pub rules: Vec<IngressRule>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressBackend {
    #[serde(default)]
    pub service: Option<IngressServiceBackend>,
    #[serde(default)]
    pub resource: Opaque,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressServiceBackend {
    pub name: String,
    #[serde(default)]
    pub port: ServiceBackendPort,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceBackendPort {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub number: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressTls {
    #[serde(default, deserialize_with = "nullable")]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub secret_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressRule {
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub http: Option<HttpIngressRuleValue>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpIngressRuleValue {
    #[serde(default, deserialize_with = "nullable")]
    pub paths: Vec<HttpIngressPath>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpIngressPath {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub path_type: Option<String>,
    #[serde(default)]
    pub backend: IngressBackend,
}

kube_kind!(
    /// networking.k8s.io/v1 IngressClass.
    IngressClass { spec: IngressClassSpec }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressClassSpec {
    #[serde(default)]
    pub controller: Option<String>,
    #[serde(default)]
    pub parameters: Opaque,
}

kube_kind!(
    /// certificates.k8s.io/v1 CertificateSigningRequest.
    CertificateSigningRequest { spec: CsrSpec, status: Opaque }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CsrSpec {
    #[serde(default)]
    pub request: Option<String>,
    #[serde(default)]
    pub signer_name: Option<String>,
    #[serde(default)]
    pub expiration_seconds: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub usages: Vec<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub groups: Vec<String>,
    #[serde(default)]
    pub extra: Opaque,
}

kube_kind!(
    /// certificates.k8s.io ClusterTrustBundle (v1beta1, v1alpha1).
    ClusterTrustBundle { spec: ClusterTrustBundleSpec }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterTrustBundleSpec {
    #[serde(default)]
    pub signer_name: Option<String>,
    #[serde(default)]
    pub trust_bundle: Option<String>,
}

kube_kind!(
    /// coordination.k8s.io/v1 Lease.
    Lease { spec: LeaseSpec }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseSpec {
    #[serde(default)]
    pub holder_identity: Option<String>,
    #[serde(default)]
    pub lease_duration_seconds: Option<i64>,
    #[serde(default)]
    pub acquire_time: Option<String>,
    #[serde(default)]
    pub renew_time: Option<String>,
    #[serde(default)]
    pub lease_transitions: Option<i64>,
    #[serde(default)]
    pub strategy: Option<String>,
    #[serde(default)]
    pub preferred_holder: Option<String>,
}

kube_kind!(
    /// autoscaling/v2 (and v1) HorizontalPodAutoscaler: its minReplicas stands
    /// in for a Deployment that sets no replicas.
    HorizontalPodAutoscaler { spec: HpaSpec, status: Opaque }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaSpec {
    #[serde(default)]
    pub scale_target_ref: CrossVersionObjectReference,
    #[serde(default)]
    pub min_replicas: Option<i64>,
    #[serde(default)]
    pub max_replicas: Option<i64>,
    #[serde(default)]
    pub metrics: Opaque,
    #[serde(default)]
    pub behavior: Opaque,
    /// autoscaling/v1 only.
    #[serde(default)]
    pub target_cpu_utilization_percentage: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossVersionObjectReference {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub api_version: Option<String>,
}

kube_kind!(
    /// policy/v1 PodDisruptionBudget.
    PodDisruptionBudget { spec: PdbSpec, status: Opaque }
);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbSpec {
    #[serde(default)]
    pub min_available: Option<IntOrString>,
    #[serde(default)]
    pub max_unavailable: Option<IntOrString>,
    #[serde(default)]
    pub selector: Option<LabelSelector>,
    #[serde(default)]
    pub unhealthy_pod_eviction_policy: Option<String>,
}
