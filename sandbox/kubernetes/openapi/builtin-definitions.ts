/**
 * OpenAPI definitions of the built-in types the sandbox serves, named as the apiserver names
 * them (`io.k8s.api.core.v1.Pod`), with the list and map types server-side apply merges by
 * (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`) as in
 * Kubernetes' own api/openapi-spec. Only the fields the sandbox's objects carry and clients
 * ask about; descriptions are short. `$ref`s use the v2 form (`#/definitions/…`).
 */
export type Schema = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const CORE = 'io.k8s.api.core.v1';

export const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
const int = (description?: string): Schema => ({ type: 'integer', format: 'int32', ...(description ? { description } : {}) });
const int64 = (description?: string): Schema => ({ type: 'integer', format: 'int64', ...(description ? { description } : {}) });
const bool = (description?: string): Schema => ({ type: 'boolean', ...(description ? { description } : {}) });
const time = (description?: string): Schema => ({ ...ref(`${META}.Time`), ...(description ? { description } : {}) });
const strMap = (description: string): Schema => ({ type: 'object', additionalProperties: { type: 'string', default: '' }, description });
const intOrString = (description?: string): Schema => ({ type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true, ...(description ? { description } : {}) });
const atomicList = (items: Schema, description?: string): Schema => ({ type: 'array', items, 'x-kubernetes-list-type': 'atomic', ...(description ? { description } : {}) });
const setList = (items: Schema, description?: string): Schema => ({ type: 'array', items, 'x-kubernetes-list-type': 'set', ...(description ? { description } : {}) });
const mapList = (items: Schema, keys: string[], description?: string): Schema => ({
  type: 'array',
  items,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': keys,
  'x-kubernetes-patch-merge-key': keys[0],
  'x-kubernetes-patch-strategy': 'merge',
  ...(description ? { description } : {}),
});
const object = (description: string, properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: 'object', description, properties, ...extra });
/** An object whose inside the sandbox does not describe: kept whole, merged as untyped JSON. */
const opaque = (description: string): Schema => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });

const TYPE_META = {
  apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
  kind: str('Kind is a string value representing the REST resource this object represents.'),
};

/** A top-level kind: apiVersion, kind, metadata, and the group-version-kind extension clients look it up by. */
function kind(group: string, version: string, k: string, description: string, properties: Record<string, Schema>, required: string[] = []): Schema {
  return {
    type: 'object',
    description,
    properties: { ...TYPE_META, metadata: { ...ref(`${META}.ObjectMeta`), description: "Standard object's metadata." }, ...properties },
    ...(required.length ? { required } : {}),
    'x-kubernetes-group-version-kind': [{ group, kind: k, version }],
  };
}

const CONTAINER = object('A single application container that you want to run within a pod.', {
  name: str('Name of the container specified as a DNS_LABEL.'),
  image: str('Container image name.'),
  command: atomicList(str(), 'Entrypoint array. Not executed within a shell.'),
  args: atomicList(str(), 'Arguments to the entrypoint.'),
  env: mapList(ref(`${CORE}.EnvVar`), ['name'], 'List of environment variables to set in the container.'),
  ports: {
    ...mapList(ref(`${CORE}.ContainerPort`), ['containerPort', 'protocol'], 'List of ports to expose from the container.'),
    'x-kubernetes-patch-merge-key': 'containerPort',
  },
  volumeMounts: mapList(ref(`${CORE}.VolumeMount`), ['mountPath'], 'Pod volumes to mount into the container\'s filesystem.'),
  securityContext: opaque('SecurityContext defines the security options the container should be run with.'),
  resources: opaque('Compute Resources required by this container.'),
  imagePullPolicy: str('Image pull policy. One of Always, Never, IfNotPresent.'),
}, { required: ['name'] });

const DEFINITIONS: Record<string, Schema> = {
  [`${META}.Time`]: { type: 'string', format: 'date-time', description: 'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.' },
  [`${META}.FieldsV1`]: { type: 'object', description: 'FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.' },
  [`${META}.ManagedFieldsEntry`]: object('ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.', {
    apiVersion: str(), fieldsType: str(), fieldsV1: ref(`${META}.FieldsV1`), manager: str(), operation: str(), subresource: str(), time: time(),
  }),
  [`${META}.OwnerReference`]: object('OwnerReference contains enough information to let you identify an owning object.', {
    apiVersion: str(), kind: str(), name: str(), uid: str(), controller: bool(), blockOwnerDeletion: bool(),
  }, { required: ['apiVersion', 'kind', 'name', 'uid'], 'x-kubernetes-map-type': 'atomic' }),
  [`${META}.ObjectMeta`]: object('ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.', {
    name: str('Name must be unique within a namespace.'),
    generateName: str('GenerateName is an optional prefix, used by the server, to generate a unique name.'),
    namespace: str('Namespace defines the space within which each name must be unique.'),
    uid: str(), resourceVersion: str(), generation: int64(),
    creationTimestamp: time(), deletionTimestamp: time(), deletionGracePeriodSeconds: int64(),
    labels: strMap('Map of string keys and values that can be used to organize and categorize objects.'),
    annotations: strMap('Annotations is an unstructured key value map stored with a resource.'),
    ownerReferences: mapList(ref(`${META}.OwnerReference`), ['uid'], 'List of objects depended by this object.'),
    finalizers: setList(str(), 'Must be empty before the object is deleted from the registry.'),
    managedFields: atomicList(ref(`${META}.ManagedFieldsEntry`), 'ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow.'),
  }),
  [`${META}.LabelSelectorRequirement`]: object('A label selector requirement.', { key: str(), operator: str(), values: atomicList(str()) }, { required: ['key', 'operator'] }),
  [`${META}.LabelSelector`]: object('A label selector is a label query over a set of resources.', {
    matchExpressions: atomicList(ref(`${META}.LabelSelectorRequirement`)),
    matchLabels: strMap('matchLabels is a map of {key,value} pairs.'),
  }, { 'x-kubernetes-map-type': 'atomic' }),

  [`${CORE}.Namespace`]: kind('', 'v1', 'Namespace', 'Namespace provides a scope for Names.', {
    spec: object('NamespaceSpec describes the attributes on a Namespace.', { finalizers: atomicList(str()) }),
    status: object('NamespaceStatus is information about the current status of a Namespace.', { phase: str('Phase is the current lifecycle phase of the namespace.') }),
  }),
  [`${CORE}.NodeAddress`]: object("NodeAddress contains information for the node's address.", { type: str(), address: str() }, { required: ['type', 'address'] }),
  [`${CORE}.NodeCondition`]: object('NodeCondition contains condition information for a node.', {
    type: str(), status: str(), reason: str(), message: str(), lastHeartbeatTime: time(), lastTransitionTime: time(),
  }, { required: ['type', 'status'] }),
  [`${CORE}.NodeSystemInfo`]: object('NodeSystemInfo is a set of ids/uuids to uniquely identify the node.', {
    machineID: str(), systemUUID: str(), bootID: str(), kernelVersion: str(), osImage: str(), containerRuntimeVersion: str(),
    kubeletVersion: str(), kubeProxyVersion: str(), operatingSystem: str(), architecture: str(),
  }, { required: ['machineID', 'systemUUID', 'bootID', 'kernelVersion', 'osImage', 'containerRuntimeVersion', 'kubeletVersion', 'kubeProxyVersion', 'operatingSystem', 'architecture'] }),
  [`${CORE}.Node`]: kind('', 'v1', 'Node', 'Node is a worker node in Kubernetes.', {
    spec: object('NodeSpec describes the attributes that a node is created with.', {
      podCIDR: str(), podCIDRs: setList(str()), providerID: str(), unschedulable: bool(), taints: atomicList(opaque('The node this Taint is attached to has the "effect" on any pod that does not tolerate the Taint.')),
    }),
    status: object('NodeStatus is information about the current status of a node.', {
      addresses: mapList(ref(`${CORE}.NodeAddress`), ['type']),
      conditions: mapList(ref(`${CORE}.NodeCondition`), ['type']),
      capacity: strMap('Capacity represents the total resources of a node.'),
      allocatable: strMap('Allocatable represents the resources of a node that are available for scheduling.'),
      daemonEndpoints: opaque('Endpoints of daemons running on the Node.'),
      nodeInfo: ref(`${CORE}.NodeSystemInfo`),
    }),
  }),
  [`${CORE}.ServicePort`]: object("ServicePort contains information on service's port.", {
    name: str(), protocol: { type: 'string', default: 'TCP' }, port: int('The port that will be exposed by this service.'), targetPort: intOrString(), nodePort: int(), appProtocol: str(),
  }, { required: ['port'] }),
  [`${CORE}.Service`]: kind('', 'v1', 'Service', 'Service is a named abstraction of software service (for example, mysql) consisting of local port that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.', {
    spec: object('ServiceSpec describes the attributes that a user creates on a service.', {
      type: str('type determines how the Service is exposed.'),
      clusterIP: str(), clusterIPs: atomicList(str()), externalName: str(),
      ports: { ...mapList(ref(`${CORE}.ServicePort`), ['port', 'protocol']), 'x-kubernetes-patch-merge-key': 'port' },
      selector: { ...strMap('Route service traffic to pods with label keys and values matching this selector.'), 'x-kubernetes-map-type': 'atomic' },
      sessionAffinity: str(), ipFamilies: atomicList(str()), ipFamilyPolicy: str(), internalTrafficPolicy: str(), externalTrafficPolicy: str(),
    }),
    status: object('ServiceStatus represents the current status of a service.', { loadBalancer: opaque('LoadBalancer contains the current status of the load-balancer, if one is present.') }),
  }),
  [`${CORE}.Secret`]: kind('', 'v1', 'Secret', 'Secret holds secret data of a certain type.', {
    data: { type: 'object', additionalProperties: { type: 'string', format: 'byte' }, description: 'Data contains the secret data. Each value is base64 encoded.' },
    stringData: strMap('stringData allows specifying non-binary secret data in string form. It is write-only.'),
    type: str('Used to facilitate programmatic handling of secret data.'),
    immutable: bool(),
  }),
  [`${CORE}.ConfigMap`]: kind('', 'v1', 'ConfigMap', 'ConfigMap holds configuration data for pods to consume.', {
    data: strMap('Data contains the configuration data.'),
    binaryData: { type: 'object', additionalProperties: { type: 'string', format: 'byte' }, description: 'BinaryData contains the binary data.' },
    immutable: bool(),
  }),
  [`${CORE}.EnvVar`]: object('EnvVar represents an environment variable present in a Container.', {
    name: str('Name of the environment variable.'), value: str(), valueFrom: opaque('Source for the environment variable\'s value.'),
  }, { required: ['name'] }),
  [`${CORE}.ContainerPort`]: object('ContainerPort represents a network port in a single container.', {
    name: str(), containerPort: int(), hostPort: int(), protocol: { type: 'string', default: 'TCP' }, hostIP: str(),
  }, { required: ['containerPort'] }),
  [`${CORE}.VolumeMount`]: object('VolumeMount describes a mounting of a Volume within a container.', {
    name: str(), mountPath: str(), readOnly: bool(), subPath: str(),
  }, { required: ['name', 'mountPath'] }),
  [`${CORE}.Volume`]: object('Volume represents a named volume in a pod that may be accessed by any container in the pod.', {
    name: str(), hostPath: opaque('HostPath represents a pre-existing file or directory on the host machine.'), secret: opaque('Secret represents a secret that should populate this volume.'),
    configMap: opaque('configMap represents a configMap that should populate this volume.'), emptyDir: opaque('emptyDir represents a temporary directory that shares a pod\'s lifetime.'),
  }, { required: ['name'] }),
  [`${CORE}.Container`]: CONTAINER,
  [`${CORE}.PodSpec`]: object('PodSpec is a description of a pod.', {
    containers: mapList(ref(`${CORE}.Container`), ['name'], 'List of containers belonging to the pod.'),
    initContainers: mapList(ref(`${CORE}.Container`), ['name']),
    volumes: mapList(ref(`${CORE}.Volume`), ['name']),
    nodeName: str('NodeName indicates in which node this pod is scheduled.'),
    nodeSelector: { ...strMap('NodeSelector is a selector which must be true for the pod to fit on a node.'), 'x-kubernetes-map-type': 'atomic' },
    hostNetwork: bool('Host networking requested for this pod.'),
    dnsPolicy: str(), restartPolicy: str(), serviceAccountName: str(), schedulerName: str(),
    terminationGracePeriodSeconds: int64('Optional duration in seconds the pod needs to terminate gracefully.'),
    affinity: opaque("If specified, the pod's scheduling constraints"),
    tolerations: atomicList(opaque('The pod this Toleration is attached to tolerates any taint that matches.')),
    securityContext: opaque('SecurityContext holds pod-level security attributes and common container settings.'),
  }, { required: ['containers'] }),
  [`${CORE}.PodCondition`]: object('PodCondition contains details for the current condition of this pod.', {
    type: str(), status: str(), reason: str(), message: str(), lastProbeTime: time(), lastTransitionTime: time(),
  }, { required: ['type', 'status'] }),
  [`${CORE}.ContainerStatus`]: object('ContainerStatus contains details for the current status of this container.', {
    name: str(), image: str(), imageID: str(), containerID: str(), ready: bool(), started: bool(), restartCount: int(),
    state: opaque('State holds details about the container\'s current condition.'), lastState: opaque('LastTerminationState holds the last termination state of the container.'),
  }, { required: ['name', 'ready', 'restartCount', 'image', 'imageID'] }),
  [`${CORE}.PodStatus`]: object('PodStatus represents information about the status of a pod.', {
    phase: str('The phase of a Pod is a simple, high-level summary of where the Pod is in its lifecycle.'),
    conditions: mapList(ref(`${CORE}.PodCondition`), ['type']),
    hostIP: str(), hostIPs: atomicList(opaque('HostIP represents a single IP address allocated to the host.')),
    podIP: str(), podIPs: mapList(opaque('PodIP represents a single IP address allocated to the pod.'), ['ip']),
    startTime: time(), qosClass: str(), reason: str(), message: str(),
    containerStatuses: atomicList(ref(`${CORE}.ContainerStatus`)),
  }),
  [`${CORE}.Pod`]: kind('', 'v1', 'Pod', 'Pod is a collection of containers that can run on a host.', {
    spec: ref(`${CORE}.PodSpec`),
    status: ref(`${CORE}.PodStatus`),
  }),
  [`${CORE}.PodTemplateSpec`]: object('PodTemplateSpec describes the data a pod should have when created from a template', {
    metadata: ref(`${META}.ObjectMeta`),
    spec: ref(`${CORE}.PodSpec`),
  }),
  [`${CORE}.ObjectReference`]: object('ObjectReference contains enough information to let you inspect or modify the referred object.', {
    apiVersion: str(), kind: str(), name: str(), namespace: str(), uid: str(), resourceVersion: str(), fieldPath: str(),
  }, { 'x-kubernetes-map-type': 'atomic' }),
  [`${CORE}.Event`]: kind('', 'v1', 'Event', 'Event is a report of an event somewhere in the cluster.', {
    involvedObject: ref(`${CORE}.ObjectReference`),
    reason: str('This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
    message: str('A human-readable description of the status of this operation.'),
    type: str('Type of this event (Normal, Warning), new types could be added in the future'),
    source: object('EventSource contains information for an event.', { component: str(), host: str() }),
    firstTimestamp: time(), lastTimestamp: time(), eventTime: { type: 'string', format: 'date-time' }, count: int(),
    reportingComponent: str(), reportingInstance: str(), action: str(),
  }, ['metadata', 'involvedObject']),
  [`${CORE}.ServiceAccount`]: kind('', 'v1', 'ServiceAccount', 'ServiceAccount binds together: a name, understood by users, and perhaps by peripheral systems, for an identity; a principal that can be authenticated and authorized; a set of secrets', {
    secrets: mapList(ref(`${CORE}.ObjectReference`), ['name']),
    automountServiceAccountToken: bool(),
  }),

  'io.k8s.api.apps.v1.RollingUpdateDaemonSet': object('Spec to control the desired behavior of daemon set rolling update.', { maxUnavailable: intOrString(), maxSurge: intOrString() }),
  'io.k8s.api.apps.v1.DaemonSetUpdateStrategy': object('DaemonSetUpdateStrategy is a struct used to control the update strategy for a DaemonSet.', {
    type: str('Type of daemon set update. Can be "RollingUpdate" or "OnDelete". Default is RollingUpdate.'),
    rollingUpdate: ref('io.k8s.api.apps.v1.RollingUpdateDaemonSet'),
  }),
  'io.k8s.api.apps.v1.DaemonSet': kind('apps', 'v1', 'DaemonSet', 'DaemonSet represents the configuration of a daemon set.', {
    spec: object('DaemonSetSpec is the specification of a daemon set.', {
      selector: ref(`${META}.LabelSelector`),
      template: ref(`${CORE}.PodTemplateSpec`),
      updateStrategy: ref('io.k8s.api.apps.v1.DaemonSetUpdateStrategy'),
      minReadySeconds: int(), revisionHistoryLimit: int(),
    }, { required: ['selector', 'template'] }),
    status: object('DaemonSetStatus represents the current status of a daemon set.', {
      currentNumberScheduled: int(), desiredNumberScheduled: int(), numberAvailable: int(), numberMisscheduled: int(), numberReady: int(),
      numberUnavailable: int(), observedGeneration: int64(), updatedNumberScheduled: int(),
    }),
  }),

  'io.k8s.api.coordination.v1.Lease': kind('coordination.k8s.io', 'v1', 'Lease', 'Lease defines a lease concept.', {
    spec: object('LeaseSpec is a specification of a Lease.', {
      holderIdentity: str(), leaseDurationSeconds: int(), acquireTime: { type: 'string', format: 'date-time' }, renewTime: { type: 'string', format: 'date-time' }, leaseTransitions: int(),
    }),
  }),

  'io.k8s.api.rbac.v1.PolicyRule': object('PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.', {
    apiGroups: atomicList(str()), resources: atomicList(str()), verbs: atomicList(str()), resourceNames: atomicList(str()), nonResourceURLs: atomicList(str()),
  }, { required: ['verbs'] }),
  'io.k8s.api.rbac.v1.Subject': object('Subject contains a reference to the object or user identities a role binding applies to.', {
    kind: str(), apiGroup: str(), name: str(), namespace: str(),
  }, { required: ['kind', 'name'], 'x-kubernetes-map-type': 'atomic' }),
  'io.k8s.api.rbac.v1.RoleRef': object('RoleRef contains information that points to the role being used', { apiGroup: str(), kind: str(), name: str() }, {
    required: ['apiGroup', 'kind', 'name'], 'x-kubernetes-map-type': 'atomic',
  }),
  'io.k8s.api.rbac.v1.AggregationRule': object('AggregationRule describes how to locate ClusterRoles to aggregate into the ClusterRole', {
    clusterRoleSelectors: atomicList(ref(`${META}.LabelSelector`)),
  }),
  'io.k8s.api.rbac.v1.Role': kind('rbac.authorization.k8s.io', 'v1', 'Role', 'Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.', {
    rules: atomicList(ref('io.k8s.api.rbac.v1.PolicyRule')),
  }),
  'io.k8s.api.rbac.v1.ClusterRole': kind('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.', {
    rules: atomicList(ref('io.k8s.api.rbac.v1.PolicyRule')),
    aggregationRule: ref('io.k8s.api.rbac.v1.AggregationRule'),
  }),
  'io.k8s.api.rbac.v1.RoleBinding': kind('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'RoleBinding references a role, but does not contain it.', {
    subjects: atomicList(ref('io.k8s.api.rbac.v1.Subject')),
    roleRef: ref('io.k8s.api.rbac.v1.RoleRef'),
  }, ['roleRef']),
  'io.k8s.api.rbac.v1.ClusterRoleBinding': kind('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'ClusterRoleBinding references a ClusterRole, but not contain it.', {
    subjects: atomicList(ref('io.k8s.api.rbac.v1.Subject')),
    roleRef: ref('io.k8s.api.rbac.v1.RoleRef'),
  }, ['roleRef']),

  'io.k8s.api.authentication.v1.SelfSubjectReview': kind('authentication.k8s.io', 'v1', 'SelfSubjectReview', 'SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.', {
    status: object('SelfSubjectReviewStatus is filled by the kube-apiserver and sent back to a user.', { userInfo: opaque('User attributes of the user making this request.') }),
  }),
  'io.k8s.api.authorization.v1.SelfSubjectAccessReview': kind('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'SelfSubjectAccessReview checks whether or the current user can perform an action.', {
    spec: opaque('Spec holds information about the request being evaluated.'),
    status: opaque('Status is filled in by the server and indicates whether the request is allowed or not'),
  }, ['spec']),
};

/** The built-in definitions (a fresh copy each call, so callers may rewrite refs). */
export function builtinDefinitions(): Record<string, Schema> {
  return structuredClone(DEFINITIONS);
}

/** The definition name of a built-in kind (`io.k8s.api.core.v1.Pod`), if the sandbox has one. */
export function builtinDefinitionName(group: string, version: string, kindName: string): string | undefined {
  for (const [name, s] of Object.entries(DEFINITIONS)) {
    const gvks = s['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined;
    if (gvks?.some((g) => g.group === group && g.version === version && g.kind === kindName)) return name;
  }
  return undefined;
}
