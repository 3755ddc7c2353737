/**
 * The deployment manifests: stack.yml (faas-cli), deploy/openfaas, deploy/knative
 * and deploy/kubernetes. Objects are checked against the real OpenAPI schemas
 * (kubernetes-models, @kubernetes-models/knative), every kustomization is
 * rendered with `kubectl kustomize` (set KUBECTL to try another binary), and
 * function names, images and the node label must agree everywhere.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Service as KnativeService } from '@kubernetes-models/knative/serving.knative.dev/v1/Service';
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
import { functionNames } from '../../shared/runtime/functions';

const ROOT = path.resolve(__dirname, '../..');
const DEPLOY = path.join(ROOT, 'deploy');
const NODE_LABEL = 'rbd-functions.io/ceph-client';
const FUNCTION_LABEL = 'rbd-functions.io/function';
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
});

describe('kustomizations', () => {
  beforeAll(() => {
    kubectl('version', '--client');
  });

  test('there is a base and a secret overlay for Knative, and a base for plain Kubernetes', () => {
    expect(kustomizationDirs).toEqual(['deploy/knative', 'deploy/knative/base', 'deploy/knative/overlays/secret', 'deploy/kubernetes']);
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
    expect(knativeServices('deploy/knative/overlays/secret')).toHaveLength(4);
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
    expect(gateway!.command).toEqual(['node', 'dist/shared/local/main.js']);
    expect(gateway!.env).toContainEqual({ name: 'RBD_SANDBOX', value: 'off' });
    const service = render('deploy/kubernetes').find((o) => o.apiVersion === 'v1' && o.kind === 'Service')!;
    expect(service.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http' }]);
    const account = render('deploy/kubernetes').find((o) => o.kind === 'ServiceAccount')!;
    expect(account.automountServiceAccountToken).toBe(false);
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

  test('the functions in stack.yml, the Knative Services and functions/ are the same four', () => {
    const names = functionNames();
    expect(names).toHaveLength(4);
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
  expect(keys.length).toBe(4 + 1 + 4 + 1);
  expect(new Set(keys)).toEqual(new Set([NODE_LABEL]));
  expect(podSpecs('deploy/kubernetes')[0]!.nodeSelector).toEqual({ [NODE_LABEL]: 'true' });
  const values = [...podSpecs('deploy/knative'), profile.spec].map(
    (spec) => spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0],
  );
  for (const expression of values) expect(expression).toEqual({ key: NODE_LABEL, operator: 'In', values: ['true'] });
});
