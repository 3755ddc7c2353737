/**
 * The deployment manifests: stack.yml (faas-cli), deploy/openfaas, deploy/knative
 * (Serving, and Eventing in deploy/knative/eventing) and deploy/kubernetes.
 * Objects are checked against the real OpenAPI schemas (kubernetes-models,
 * @kubernetes-models/knative), every kustomization is rendered with
 * `kubectl kustomize` (set KUBECTL to try another binary), and function
 * names, images, event types, topics and the node label must agree everywhere.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Broker } from '@kubernetes-models/knative/eventing.knative.dev/v1/Broker';
import { Trigger } from '@kubernetes-models/knative/eventing.knative.dev/v1/Trigger';
import { Service as KnativeService } from '@kubernetes-models/knative/serving.knative.dev/v1/Service';
import { SinkBinding } from '@kubernetes-models/knative/sources.knative.dev/v1/SinkBinding';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Affinity } from 'kubernetes-models/v1/Affinity';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Toleration } from 'kubernetes-models/v1/Toleration';
import { TopologySpreadConstraint, type ITopologySpreadConstraint } from 'kubernetes-models/v1/TopologySpreadConstraint';
import { Volume } from 'kubernetes-models/v1/Volume';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_CEPH_DIR, DEFAULT_SECRETS_DIR } from '../../shared/config';
import { ERROR_EVENT_TYPE, EVENT_TYPE_PREFIX } from '../../shared/runtime/event-types';
import { functionNames, loadFunctions } from '../../shared/runtime/functions';
import { parseDuration } from '../../shared/runtime/settings';

const ROOT = path.resolve(__dirname, '../..');
const DEPLOY = path.join(ROOT, 'deploy');
const NODE_LABEL = 'rbd-functions.io/ceph-client';
const FUNCTION_LABEL = 'rbd-functions.io/function';
const EVENTING = 'deploy/knative/eventing';
const PROFILE_FILE = path.join(DEPLOY, 'openfaas/profile.yaml');
/** Applied by hand, not through a kustomization. */
const STANDALONE = [PROFILE_FILE, path.join(DEPLOY, 'knative/config-features.yaml')];

// Manifests are loose JSON; the schema checks below are what types them.
type Obj = Record<string, any>;

const rel = (file: string) => path.relative(ROOT, file);

function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) return yamlFiles(file);
      return entry.isFile() && /\.ya?ml$/.test(entry.name) ? [file] : [];
    })
    .sort();
}

/** Every document of a YAML stream, as plain JS; empty documents dropped. */
function parseYaml(text: string, where: string, version: '1.1' | '1.2' = '1.2'): unknown[] {
  const docs = parseAllDocuments(text, { version, prettyErrors: true });
  return docs
    .map((doc) => {
      const problems = [...doc.errors, ...doc.warnings];
      if (problems.length) throw new Error(`${where}: ${problems.map((p) => p.message).join('\n')}`);
      return doc.toJS() as unknown;
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

const readYaml = (file: string) => parseYaml(fs.readFileSync(file, 'utf8'), rel(file));

/** faas-cli's ${VAR:-default} substitution, with every variable unset. */
const withDefaults = (text: string) => text.replace(/\$\{\w+(?::-([^}]*))?\}/g, (_m, fallback: string | undefined) => fallback ?? '');

/**
 * The Knative Eventing models type the fields they know but let unknown ones
 * through, which the API server would prune: a misspelt delivery field would
 * pass silently. So spec fields are also checked against the Go types
 * (knative.dev/eventing pkg/apis: BrokerSpec, TriggerSpec, SinkBindingSpec,
 * duck/v1 DeliverySpec and Destination). `true` marks a field not descended into.
 */
type Shape = { [field: string]: Shape | true };
const KREFERENCE: Shape = { apiVersion: true, kind: true, name: true, namespace: true };
const DESTINATION: Shape = { ref: KREFERENCE, uri: true, CACerts: true, audience: true };
const DELIVERY: Shape = { deadLetterSink: DESTINATION, retry: true, backoffPolicy: true, backoffDelay: true, timeout: true, retryAfterMax: true };
const EVENTING_SPECS: Record<string, Shape> = {
  'eventing.knative.dev/v1/Broker': { config: KREFERENCE, delivery: DELIVERY },
  'eventing.knative.dev/v1/Trigger': { broker: true, filter: { attributes: true }, filters: true, subscriber: DESTINATION, delivery: DELIVERY },
  'sources.knative.dev/v1/SinkBinding': {
    subject: { apiVersion: true, kind: true, namespace: true, name: true, selector: true },
    sink: DESTINATION,
    ceOverrides: true,
  },
};

function checkFields(value: unknown, shape: Shape, at: string): void {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return; // the model reports wrong types
  for (const [field, inner] of Object.entries(value)) {
    const known = shape[field];
    if (!known) throw new Error(`${at}.${field} is not a field Knative knows (expected one of ${Object.keys(shape).join(', ')})`);
    if (known !== true) checkFields(inner, known, `${at}.${field}`);
  }
}

/** An ISO 8601 duration, as Knative's delivery fields take it (days and time parts), in ms. */
function isoDurationMs(text: unknown, at: string): number {
  const match = typeof text === 'string' ? /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text) : null;
  if (!match || !/\d[DHMS]$/.test(text as string)) throw new Error(`${at} must be an ISO 8601 duration such as PT1S, not ${JSON.stringify(text)}`);
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000;
}

function checkEventing(obj: Obj): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  checkFields(obj.spec, EVENTING_SPECS[key]!, 'spec');
  const delivery = obj.spec?.delivery;
  if (delivery) {
    if (delivery.backoffPolicy !== undefined && !['linear', 'exponential'].includes(delivery.backoffPolicy)) {
      throw new Error(`spec.delivery.backoffPolicy must be linear or exponential, not ${JSON.stringify(delivery.backoffPolicy)}`);
    }
    for (const field of ['backoffDelay', 'timeout', 'retryAfterMax']) {
      if (delivery[field] !== undefined) isoDurationMs(delivery[field], `spec.delivery.${field}`);
    }
  }
  for (const [name, value] of Object.entries(obj.spec?.filter?.attributes ?? {})) {
    if (typeof value !== 'string') throw new Error(`spec.filter.attributes.${name} must be a string`);
  }
  const subject = obj.spec?.subject;
  if (subject && (subject.name === undefined) === (subject.selector === undefined)) {
    throw new Error('spec.subject needs exactly one of name and selector');
  }
}

// One validator per apiVersion/kind; anything else fails rather than slipping through.
const VALIDATORS: Record<string, (obj: Obj) => void> = {
  'v1/Namespace': (obj) => new Namespace(obj).validate(),
  'v1/ServiceAccount': (obj) => new ServiceAccount(obj).validate(),
  'v1/Service': (obj) => new Service(obj).validate(),
  'v1/ConfigMap': (obj) => new ConfigMap(obj).validate(),
  'apps/v1/Deployment': (obj) => new Deployment(obj).validate(),
  'policy/v1/PodDisruptionBudget': (obj) => new PodDisruptionBudget(obj).validate(),
  'serving.knative.dev/v1/Service': (obj) => {
    new KnativeService(obj).validate();
    // Knative's schema leaves affinity open ({}) and knows no hostPath: check
    // those with the core models too. (Not the whole pod as a core PodSpec:
    // Knative probes may omit the port, which the core schema requires.)
    const spec = obj.spec.template.spec;
    if (spec.affinity) new Affinity(spec.affinity).validate();
    for (const volume of spec.volumes ?? []) new Volume(volume).validate();
  },
  'eventing.knative.dev/v1/Broker': (obj) => {
    new Broker(obj).validate();
    checkEventing(obj);
  },
  'eventing.knative.dev/v1/Trigger': (obj) => {
    new Trigger(obj).validate();
    checkEventing(obj);
  },
  'sources.knative.dev/v1/SinkBinding': (obj) => {
    new SinkBinding(obj).validate();
    checkEventing(obj);
  },
  // No published model: each ProfileSpec field (openfaas/faas-netes
  // pkg/apis/openfaas/v1) goes through its core type.
  'openfaas.com/v1/Profile': (obj) => {
    if (!obj.metadata?.name || !obj.metadata?.namespace) throw new Error('a Profile needs metadata.name and metadata.namespace');
    const fields: Record<string, (value: Obj) => void> = {
      affinity: (value) => new Affinity(value).validate(),
      podSecurityContext: (value) => new PodSecurityContext(value).validate(),
      tolerations: (value) => value.forEach((t: Obj) => new Toleration(t).validate()),
      topologySpreadConstraints: (value) => value.forEach((c: ITopologySpreadConstraint) => new TopologySpreadConstraint(c).validate()),
    };
    for (const [field, value] of Object.entries(obj.spec ?? {})) {
      const check = fields[field];
      if (!check) throw new Error(`Profile spec.${field} has no validator here; add one backed by its core model`);
      check(value as Obj);
    }
  },
};

function validate(obj: Obj, where: string): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const check = VALIDATORS[key];
  if (!check) throw new Error(`${where}: no schema for ${key}; add its model to VALIDATORS`);
  try {
    check(obj);
  } catch (err) {
    throw new Error(`${where}: ${key} "${obj.metadata?.name}" is invalid: ${(err as Error).message}`);
  }
}

const KUBECTL = process.env.KUBECTL || 'kubectl';

function kubectl(...args: string[]): string {
  try {
    return execFileSync(KUBECTL, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error(
        `${KUBECTL} not found on PATH: these tests render the kustomizations with \`kubectl kustomize\`. ` +
          'Install kubectl (Debian: apt-get install kubernetes-client) or set KUBECTL to its path.',
      );
    }
    throw new Error(`${KUBECTL} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

const kustomizationDirs = yamlFiles(DEPLOY)
  .filter((file) => path.basename(file) === 'kustomization.yaml')
  .map((file) => rel(path.dirname(file)))
  .sort();
const kustomization = (dir: string) => readYaml(path.join(ROOT, dir, 'kustomization.yaml'))[0] as Obj;
const rendered = new Map<string, Obj[]>();
const render = (dir: string): Obj[] => {
  if (!rendered.has(dir)) rendered.set(dir, parseYaml(kubectl('kustomize', dir), `kubectl kustomize ${dir}`) as Obj[]);
  return rendered.get(dir)!;
};

const stackText = fs.readFileSync(path.join(ROOT, 'stack.yml'), 'utf8');
const stack = parseYaml(withDefaults(stackText), 'stack.yml')[0] as Obj;
const stackFunctions = Object.entries(stack.functions as Record<string, Obj>);
const profile = readYaml(PROFILE_FILE)[0] as Obj;

const knativeServices = (dir: string) => render(dir).filter((o) => o.apiVersion === 'serving.knative.dev/v1' && o.kind === 'Service');
const podSpecs = (dir: string): Obj[] =>
  render(dir)
    .filter((o) => ['Deployment', 'Service'].includes(o.kind) && o.spec?.template?.spec)
    .map((o) => o.spec.template.spec);
const containers = (dir: string): Obj[] => podSpecs(dir).flatMap((spec) => spec.containers);
const WORKLOADS = ['deploy/knative', 'deploy/knative/overlays/secret', 'deploy/kubernetes'];

/** Node-label keys a pod spec or Profile schedules on. */
function nodeLabelKeys(spec: Obj): string[] {
  const terms: Obj[] = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  return [...Object.keys(spec.nodeSelector ?? {}), ...terms.flatMap((t) => (t.matchExpressions ?? []).map((e: Obj) => e.key as string))];
}

function hasKey(value: unknown, key: string): boolean {
  if (Array.isArray(value)) return value.some((v) => hasKey(v, key));
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k === key || hasKey(v, key));
  return false;
}

/** Whether a Kubernetes label selector (matchLabels, matchExpressions) selects these labels. */
function selects(selector: Obj, labels: Record<string, string> = {}): boolean {
  const has = (key: string) => Object.prototype.hasOwnProperty.call(labels, key);
  return (
    Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value) &&
    (selector.matchExpressions ?? []).every((e: Obj) => {
      switch (e.operator) {
        case 'In':
          return has(e.key) && e.values.includes(labels[e.key]);
        case 'NotIn':
          return !has(e.key) || !e.values.includes(labels[e.key]);
        case 'Exists':
          return has(e.key);
        case 'DoesNotExist':
          return !has(e.key);
        default:
          throw new Error(`unknown selector operator ${e.operator}`);
      }
    })
  );
}

/** What each function declares about events (functions/<name>/handler.ts `events`), loaded as the runtime loads it. */
const functionEvents = (() => {
  let events: Map<string, { accepts: string; replies: string }> | undefined;
  return () =>
    (events ??= new Map(
      [...loadFunctions()].map(([name, mod]) => {
        if (!mod.events) throw new Error(`functions/${name}/handler.ts exports no events`);
        return [name, mod.events];
      }),
    ));
})();
const accepts = (name: string) => functionEvents().get(name)?.accepts;

/** A comment line of a `type -> function` table, as in the headers of stack.yml and the Eventing kustomization. */
const mapsTo = (type: string, name: string) => new RegExp(`^#.*\\s${type.replace(/\./g, '\\.')}\\s+-> ${name}\\b`, 'm');

/** The functions whose handler marks a change (context.changed()), which the runtime announces to K_SINK. */
const announcingFunctions = () =>
  functionNames().filter((name) => /\.changed\(\)/.test(fs.readFileSync(path.join(ROOT, 'functions', name, 'handler.ts'), 'utf8')));

describe('YAML files', () => {
  const files = [path.join(ROOT, 'stack.yml'), ...yamlFiles(DEPLOY)].map(rel);

  test.each(files)('%s parses, and reads the same under YAML 1.1 (kubectl, faas-cli) and 1.2', (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const docs = parseYaml(text, file);
    expect(docs.length).toBeGreaterThan(0);
    expect(parseYaml(text, file, '1.1')).toEqual(docs);
  });

  test('every manifest is in a kustomization or applied on its own, and every object in it validates', () => {
    const kustomizations = kustomizationDirs.map((dir) => ({ dir: path.join(ROOT, dir), k: kustomization(dir) }));
    const listed = new Set(kustomizations.flatMap(({ dir, k }) => (k.resources ?? []).map((r: string) => path.resolve(dir, r))));
    const patches = new Set(
      kustomizations.flatMap(({ dir, k }) => [...(k.patchesJson6902 ?? []), ...(k.patches ?? [])].map((p: Obj) => path.resolve(dir, p.path))),
    );
    const manifests = yamlFiles(DEPLOY).filter((file) => path.basename(file) !== 'kustomization.yaml' && !patches.has(file));
    expect(manifests.filter((file) => !listed.has(file) && !STANDALONE.includes(file)).map(rel)).toEqual([]);
    for (const file of manifests) {
      for (const obj of readYaml(file) as Obj[]) validate(obj, rel(file));
    }
  });

  test('an object of an unknown kind is an error, not silently skipped', () => {
    expect(() => validate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }, 'x.yaml')).toThrow(
      /no schema for example.com\/v1\/Widget/,
    );
    expect(() => validate({ ...profile, spec: { ...profile.spec, volumes: [] } }, 'profile.yaml')).toThrow(/spec.volumes has no validator/);
  });

  test('the schema checks catch a wrong type in a Knative Service and in the Profile affinity', () => {
    const service = knativeServices('deploy/knative')[0]!;
    const broken = structuredClone(service);
    broken.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms = 'x';
    expect(() => validate(broken, 'knative')).toThrow(/nodeSelectorTerms must be array/);
    const badProfile = structuredClone(profile);
    badProfile.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator = 1;
    expect(() => validate(badProfile, 'profile')).toThrow(/operator must be string/);
  });

  test('the Eventing checks catch what the lenient Knative models let through', () => {
    const objects = render(EVENTING);
    const trigger = objects.find((o) => o.kind === 'Trigger')!;
    const binding = objects.find((o) => o.kind === 'SinkBinding')!;
    const withDelivery = (delivery: Obj) => ({ ...trigger, spec: { ...trigger.spec, delivery: { ...trigger.spec.delivery, ...delivery } } });
    expect(() => validate(withDelivery({ retries: 3 }), 'triggers')).toThrow(/spec.delivery.retries is not a field Knative knows/);
    expect(() => validate(withDelivery({ retry: '3' }), 'triggers')).toThrow(/retry must be integer/);
    expect(() => validate(withDelivery({ backoffPolicy: 'Exponential' }), 'triggers')).toThrow(/linear or exponential/);
    expect(() => validate(withDelivery({ timeout: '45s' }), 'triggers')).toThrow(/timeout must be an ISO 8601 duration/);
    expect(() => validate(withDelivery({ backoffDelay: 'PT' }), 'triggers')).toThrow(/backoffDelay must be an ISO 8601 duration/);
    expect(() => validate({ ...trigger, spec: { ...trigger.spec, filter: { type: 'io.ceph.rbd.image.create' } } }, 'triggers')).toThrow(
      /spec.filter.type is not a field/,
    );
    const both = structuredClone(binding);
    both.spec.subject.name = 'create-image';
    expect(() => validate(both, 'sinkbinding')).toThrow(/exactly one of name and selector/);
    expect(isoDurationMs('PT1M30.5S', 'x')).toBe(90_500);
    expect(isoDurationMs('P1DT1H', 'x')).toBe(25 * 3_600_000);
  });
});

describe('kustomizations', () => {
  beforeAll(() => {
    kubectl('version', '--client');
  });

  test('there is a base, a secret overlay and Eventing for Knative, and a base for plain Kubernetes', () => {
    expect(kustomizationDirs).toEqual([
      'deploy/knative',
      'deploy/knative/base',
      EVENTING,
      'deploy/knative/overlays/secret',
      'deploy/kubernetes',
    ]);
  });

  test.each(kustomizationDirs)('kubectl kustomize %s renders objects that all validate', (dir) => {
    const objects = render(dir);
    expect(objects.length).toBeGreaterThan(0);
    for (const obj of objects) {
      validate(obj, `kubectl kustomize ${dir}`);
      expect(obj.metadata.namespace ?? obj.metadata.name).toBe('rbd-functions');
    }
  });

  test('deploy/knative renders exactly what deploy/knative/base does', () => {
    expect(render('deploy/knative')).toEqual(render('deploy/knative/base'));
  });

  test('the hostPath setups mount the node /etc/ceph read-only where the config loader looks by default', () => {
    for (const dir of ['deploy/knative', 'deploy/kubernetes']) {
      for (const spec of podSpecs(dir)) {
        const volume = spec.volumes.find((v: Obj) => v.hostPath);
        expect(volume.hostPath.path).toBe(DEFAULT_CEPH_DIR);
        const mount = spec.containers[0].volumeMounts.find((m: Obj) => m.name === volume.name);
        expect(mount).toEqual({ name: volume.name, mountPath: DEFAULT_CEPH_DIR, readOnly: true });
      }
    }
  });

  test('the secret overlay has no hostPath and mounts rbd-ceph-config read-only among the OpenFaaS secrets', () => {
    const objects = render('deploy/knative/overlays/secret');
    expect(hasKey(objects, 'hostPath')).toBe(false);
    expect(hasKey(objects, 'affinity')).toBe(false);
    expect(knativeServices('deploy/knative/overlays/secret')).toHaveLength(functionNames().length);
    for (const spec of podSpecs('deploy/knative/overlays/secret')) {
      const volume = spec.volumes.find((v: Obj) => v.secret?.secretName === 'rbd-ceph-config');
      const mount = spec.containers[0].volumeMounts.find((m: Obj) => m.name === volume.name);
      // The loader reads <secrets dir>/<secret>/ceph.conf and ceph.keyring.
      expect(path.dirname(mount.mountPath)).toBe(DEFAULT_SECRETS_DIR);
      expect(mount.readOnly).toBe(true);
    }
  });

  test('kustomize rewrites the images to the local names stack.yml builds by default', () => {
    const stackImages = new Map(stackFunctions.map(([name, fn]) => [name, fn.image as string]));
    for (const dir of ['deploy/knative', 'deploy/knative/overlays/secret']) {
      for (const service of knativeServices(dir)) {
        expect(service.spec.template.spec.containers[0].image).toBe(stackImages.get(service.metadata.name));
      }
    }
    expect(containers('deploy/kubernetes').map((c) => c.image)).toEqual([stack.functions['list-pools'].build_args.BASE_IMAGE]);
  });

  test('every container runs as uid 1000, non-root, read-only root, no privilege escalation, no capabilities, writable /tmp', () => {
    for (const dir of WORKLOADS) {
      for (const spec of podSpecs(dir)) {
        for (const container of spec.containers) {
          expect(container.securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          });
          const tmp = container.volumeMounts.find((m: Obj) => m.mountPath === '/tmp');
          expect(spec.volumes.find((v: Obj) => v.name === tmp.name).emptyDir).toBeDefined();
          expect(tmp.readOnly).toBeUndefined();
        }
      }
    }
  });

  test('readiness probes /_/ready and liveness /_/health; Knative probes name no port', () => {
    for (const dir of WORKLOADS) {
      for (const container of containers(dir)) {
        expect(container.readinessProbe.httpGet.path).toBe('/_/ready');
        expect(container.livenessProbe.httpGet.path).toBe('/_/health');
      }
    }
    for (const container of knativeServices('deploy/knative').map((s) => s.spec.template.spec.containers[0])) {
      expect(container.readinessProbe.httpGet.port).toBeUndefined();
      expect(container.livenessProbe.httpGet.port).toBeUndefined();
      expect(container.ports).toEqual([{ containerPort: 8080 }]);
    }
  });

  test('plain Kubernetes runs the local gateway from the base image, never the sandbox, behind port 8080', () => {
    const [gateway] = containers('deploy/kubernetes');
    expect(gateway!.command).toEqual(['node', 'dist/bundle/gateway.js']);
    expect(gateway!.env).toContainEqual({ name: 'RBD_SANDBOX', value: 'off' });
    const service = render('deploy/kubernetes').find((o) => o.apiVersion === 'v1' && o.kind === 'Service')!;
    expect(service.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http' }]);
    const account = render('deploy/kubernetes').find((o) => o.kind === 'ServiceAccount')!;
    expect(account.automountServiceAccountToken).toBe(false);
  });

  test('plain Kubernetes fails closed on its token: the secretKeyRef is required and RBD_AUTH=token', () => {
    const [gateway] = containers('deploy/kubernetes');
    const token = gateway!.env.find((e: Obj) => e.name === 'RBD_API_TOKEN');
    expect(token.valueFrom.secretKeyRef).toEqual({ name: 'rbd-api-token', key: 'rbd-api-token' });
    expect(gateway!.env).toContainEqual({ name: 'RBD_AUTH', value: 'token' });
  });
});

describe('Knative Eventing (deploy/knative/eventing)', () => {
  const ofKind = (kind: string) => render(EVENTING).filter((o) => o.kind === kind);
  const SERVING = ['deploy/knative', 'deploy/knative/overlays/secret'];

  test('holds only the Broker, Triggers and SinkBindings: the Services and namespace come from deploy/knative', () => {
    expect([...new Set(render(EVENTING).map((o) => `${o.apiVersion}/${o.kind}`))].sort()).toEqual([
      'eventing.knative.dev/v1/Broker',
      'eventing.knative.dev/v1/Trigger',
      'sources.knative.dev/v1/SinkBinding',
    ]);
  });

  test('every function declares a request type of its own and a reply type', () => {
    expect([...functionEvents().keys()].sort()).toEqual(functionNames());
    const types = [...functionEvents().values()].flatMap((e) => [e.accepts, e.replies]);
    // One reverse-DNS prefix for all, as CloudEvents recommends for a type.
    expect(EVENT_TYPE_PREFIX).toBe('io.ceph.rbd.');
    for (const type of [...types, ERROR_EVENT_TYPE]) expect(type).toMatch(/^io\.ceph\.rbd\.[a-z]+(\.[a-z]+)?$/);
    expect(new Set(types).size).toBe(types.length);
    expect(types).not.toContain(ERROR_EVENT_TYPE);
  });

  test('every event type the manifests, comments included, and the docs name is one a function declares; none is bare', () => {
    const declared = new Set([...[...functionEvents().values()].flatMap((e) => [e.accepts, e.replies]), ERROR_EVENT_TYPE]);
    const files = [path.join(ROOT, 'stack.yml'), ...yamlFiles(DEPLOY), ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => path.join(ROOT, 'docs', f)), path.join(ROOT, 'README.md')];
    const prefixed = new RegExp(`${EVENT_TYPE_PREFIX.replace(/\./g, '\\.')}[a-z.]*[a-z]`, 'g');
    const bare = /(?<![\w.])rbd\.(?:pools|images|image|snapshots|snapshot|trash|error)\b/g;
    let named = 0;
    for (const file of files.filter((f) => /\.(ya?ml|md)$/.test(f))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const [type] of text.matchAll(prefixed)) {
        named++;
        expect({ file: rel(file), type, declared: declared.has(type) }).toEqual({ file: rel(file), type, declared: true });
      }
      // docs/events.md names the bare types where it says they are deprecated.
      if (!file.endsWith(path.join('docs', 'events.md'))) expect({ file: rel(file), bare: text.match(bare) }).toEqual({ file: rel(file), bare: null });
    }
    expect(named).toBeGreaterThan(100);
  });

  test('one Broker, rbd-functions, of the cluster default class', () => {
    const brokers = ofKind('Broker');
    expect(brokers.map((b) => b.metadata.name)).toEqual(['rbd-functions']);
    expect(brokers[0]!.metadata.annotations?.['eventing.knative.dev/broker.class']).toBeUndefined();
  });

  test('every function has exactly one Trigger, on the type it accepts, from the Broker to its Knative Service', () => {
    const brokers = ofKind('Broker').map((b) => b.metadata.name);
    const triggersOf = Object.fromEntries(functionNames().map((name) => [name, [] as string[]]));
    for (const trigger of ofKind('Trigger')) {
      expect(brokers).toContain(trigger.spec.broker);
      // No namespace in the ref: Knative takes the Trigger's, where the Services are.
      expect(trigger.spec.subscriber).toEqual({ ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: expect.any(String) } });
      const name: string = trigger.spec.subscriber.ref.name;
      expect(functionNames()).toContain(name);
      expect(trigger.spec.filter).toEqual({ attributes: { type: accepts(name) } });
      expect(trigger.spec.filters).toBeUndefined();
      expect(trigger.metadata.labels[FUNCTION_LABEL]).toBe(name);
      triggersOf[name]!.push(trigger.metadata.name);
    }
    expect(Object.values(triggersOf).map((names) => names.length)).toEqual(functionNames().map(() => 1));
    const header = fs.readFileSync(path.join(ROOT, EVENTING, 'kustomization.yaml'), 'utf8');
    for (const name of functionNames()) expect(header).toMatch(mapsTo(accepts(name)!, name));
    for (const dir of SERVING) {
      const services = knativeServices(dir).map((s) => s.metadata.name);
      for (const name of functionNames()) expect(services).toContain(name);
    }
  });

  test('no Trigger routes a reply or an announcement back into a function', () => {
    const outputs = [...[...functionEvents().values()].map((e) => e.replies), ERROR_EVENT_TYPE];
    for (const trigger of ofKind('Trigger')) expect(outputs).not.toContain(trigger.spec.filter.attributes.type);
  });

  test('Triggers retry with exponential backoff, each attempt outlasting exec_timeout within the Service timeout', () => {
    // Retries the same everywhere; the attempt timeout follows the subscriber's
    // own timeouts (longer for the long-running functions).
    const deliveries = ofKind('Trigger').map((t) => {
      const { timeout: _timeout, ...rest } = t.spec.delivery;
      return rest;
    });
    for (const delivery of deliveries) expect(delivery).toEqual(deliveries[0]);
    const delivery = deliveries[0]!;
    expect(delivery.backoffPolicy).toBe('exponential');
    expect(delivery.retry).toBeGreaterThanOrEqual(3);
    expect(isoDurationMs(delivery.backoffDelay, 'backoffDelay')).toBeGreaterThan(0);
    for (const trigger of ofKind('Trigger')) {
      const attemptMs = isoDurationMs(trigger.spec.delivery.timeout, 'timeout');
      for (const dir of SERVING) {
        const service = knativeServices(dir).find((s) => s.metadata.name === trigger.spec.subscriber.ref.name)!;
        const spec = service.spec.template.spec;
        const execTimeout = spec.containers[0].env.find((e: Obj) => e.name === 'exec_timeout').value;
        expect(attemptMs).toBeGreaterThan(parseDuration('exec_timeout', execTimeout));
        expect(attemptMs).toBeLessThanOrEqual(spec.timeoutSeconds * 1000);
      }
    }
  });

  test('the SinkBinding gives exactly the functions that announce changes the Broker as K_SINK', () => {
    const announcing = announcingFunctions();
    // What the handlers mark as a change; a new one must be bound as well.
    expect(announcing).toEqual([
      'clone-image',
      'create-image',
      'create-snapshot',
      'delete-image',
      'delete-snapshot',
      'flatten-image',
      'purge-trash',
      'resize-image',
      'restore-image',
      'rollback-image',
    ]);
    const brokers = ofKind('Broker').map((b) => b.metadata.name);
    const bindings = ofKind('SinkBinding');
    expect(bindings.length).toBeGreaterThan(0);
    for (const binding of bindings) {
      expect(binding.spec.sink).toEqual({ ref: { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: expect.any(String) } });
      expect(brokers).toContain(binding.spec.sink.ref.name);
      expect(binding.spec.subject).toMatchObject({ apiVersion: 'serving.knative.dev/v1', kind: 'Service' });
      expect(binding.spec.subject.namespace).toBeUndefined();
    }
    for (const dir of SERVING) {
      const bound = knativeServices(dir).flatMap((service) =>
        bindings
          .filter(({ spec: { subject } }) =>
            subject.name !== undefined ? subject.name === service.metadata.name : selects(subject.selector, service.metadata.labels),
          )
          .map(() => service.metadata.name as string),
      );
      // Each announcing Service bound once (two sinks would fight over K_SINK), no other bound at all.
      expect(bound.sort()).toEqual(announcing);
    }
  });
});

describe('stack.yml', () => {
  test('is a faas-cli 1.0 stack for the openfaas provider, gateway overridable by OPENFAAS_URL', () => {
    expect(stack.version).toBe(1);
    expect(stack.provider).toEqual({ name: 'openfaas', gateway: 'http://127.0.0.1:8080' });
    expect(stackText).toContain('gateway: ${OPENFAAS_URL:-http://127.0.0.1:8080}');
  });

  test.each(stackFunctions)('%s builds from functions/<name> with its Dockerfile on the base image', (name, fn) => {
    expect(fn.lang).toBe('dockerfile');
    expect(fn.handler).toBe(`./functions/${name}`);
    const folder = path.join(ROOT, fn.handler);
    expect(fs.existsSync(path.join(folder, 'handler.ts'))).toBe(true);
    const dockerfile = fs.readFileSync(path.join(folder, 'Dockerfile'), 'utf8');
    for (const arg of Object.keys(fn.build_args)) expect(dockerfile).toMatch(new RegExp(`^\\s*ARG\\s+${arg}\\b`, 'm'));
    expect(dockerfile).toMatch(/^\s*FROM\s+\$\{?BASE_IMAGE\}?\s*$/m);
    expect(fn.build_args.BASE_IMAGE).toBe('localhost/rbd-functions/base:dev');
    expect(dockerfile.match(/^\s*ENV\s.*\bRBD_FUNCTION(?:=|\s+)"?([\w.-]+)"?/m)?.[1]).toBe(name);
  });

  test('the functions in stack.yml, the Knative Services, the runtime\'s table and functions/ are the same fifteen', () => {
    const names = functionNames();
    expect(names).toHaveLength(15);
    const folders = fs.readdirSync(path.join(ROOT, 'functions')).filter((d) => fs.existsSync(path.join(ROOT, 'functions', d, 'handler.ts')));
    expect(folders.sort()).toEqual(names);
    expect(stackFunctions.map(([name]) => name).sort()).toEqual(names);
    for (const dir of ['deploy/knative', 'deploy/knative/overlays/secret']) {
      expect(knativeServices(dir).map((s) => s.metadata.name).sort()).toEqual(names);
    }
  });

  test('images, RBD_FUNCTION and the function labels name the same function', () => {
    for (const [name, fn] of stackFunctions) {
      expect(fn.image).toBe(`localhost/rbd-functions/${name}:dev`);
      expect(fn.labels[FUNCTION_LABEL]).toBe(name);
    }
    expect(stackText).toMatch(/image: \$\{REGISTRY:-localhost\}\/rbd-functions\/[\w-]+:\$\{TAG:-dev\}/);
    for (const service of knativeServices('deploy/knative')) {
      const name = service.metadata.name;
      const container = service.spec.template.spec.containers[0];
      expect(container.image).toMatch(new RegExp(`/rbd-functions/${name}:`));
      expect(container.env).toContainEqual({ name: 'RBD_FUNCTION', value: name });
      expect(service.metadata.labels[FUNCTION_LABEL]).toBe(name);
      expect(service.spec.template.metadata.labels[FUNCTION_LABEL]).toBe(name);
    }
  });

  test.each(stackFunctions)('%s has a read-only root, the Ceph secrets, limits, the node constraint and the profile', (_name, fn) => {
    expect(fn.readonly_root_filesystem).toBe(true);
    expect(fn.secrets).toEqual(expect.arrayContaining(['ceph.conf', 'ceph.keyring']));
    expect(fn.limits).toEqual({ memory: expect.any(String), cpu: expect.any(String) });
    expect(fn.requests).toEqual({ memory: expect.any(String), cpu: expect.any(String) });
    expect(fn.constraints).toEqual([`${NODE_LABEL}=true`]);
    expect(fn.annotations['com.openfaas.profile']).toBe(profile.metadata.name);
    expect(fn.labels['com.openfaas.scale.min']).toBe('1');
    expect(fn.environment.exec_timeout).toMatch(/^\d+s$/);
    // Fail closed: with the rbd-api-token secret listed, a missing token file means not ready, never open.
    expect(fn.secrets).toContain('rbd-api-token');
    expect(fn.environment.RBD_AUTH).toBe('token');
  });

  test.each(stackFunctions)('%s takes connector messages on the topic named after the CloudEvents type it accepts', (name, fn) => {
    expect(fn.annotations.topic).toBe(accepts(name));
    // The table in the header comment names it too.
    expect(stackText).toMatch(mapsTo(fn.annotations.topic, name));
  });

  test('the functions share every annotation but their topic', () => {
    const shared = stackFunctions.map(([, fn]) => {
      const { topic: _topic, ...rest } = fn.annotations;
      return rest;
    });
    for (const annotations of shared) expect(annotations).toEqual(shared[0]);
    expect(new Set(stackFunctions.map(([, fn]) => fn.annotations.topic)).size).toBe(stackFunctions.length);
  });

  test('the secrets are named after the keys the config loader reads, as faas-cli secret create names them', () => {
    const secrets = new Set(stackFunctions.flatMap(([, fn]) => fn.secrets as string[]));
    for (const secret of secrets) expect(stackText).toContain(`faas-cli secret create ${secret} `);
  });
});

test('the node label key and value are the same in stack.yml, the Profile, Knative and Kubernetes', () => {
  const constraints = stackFunctions.flatMap(([, fn]) => fn.constraints as string[]);
  const keys = [
    ...constraints.map((c) => c.split('=')[0]),
    ...nodeLabelKeys(profile.spec),
    ...podSpecs('deploy/knative').flatMap(nodeLabelKeys),
    ...podSpecs('deploy/kubernetes').flatMap(nodeLabelKeys),
  ];
  expect(keys.length).toBe(15 + 1 + 15 + 1);
  expect(new Set(keys)).toEqual(new Set([NODE_LABEL]));
  expect(podSpecs('deploy/kubernetes')[0]!.nodeSelector).toEqual({ [NODE_LABEL]: 'true' });
  const values = [...podSpecs('deploy/knative'), profile.spec].map(
    (spec) => spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0],
  );
  for (const expression of values) expect(expression).toEqual({ key: NODE_LABEL, operator: 'In', values: ['true'] });
});
