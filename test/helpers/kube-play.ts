/**
 * The project's manifests played by `podman kube play` against the sandbox
 * cluster: rendering them for this machine (each change said where it is
 * made), playing, stopping and taking down a pod, and a node's /etc/ceph.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { ceph } from './ceph';
import { engineRun } from './containers';

const root = path.resolve(__dirname, '../..');
export type Obj = Record<string, any>;

/** The cephx user docs/deploy.md recommends, with the caps it documents for the pool the manifests allow (RBD_POOLS=rbd). */
export const CEPH_USER = 'rbd-functions';
const CAPS = ['mon', 'profile rbd', 'osd', 'profile rbd pool=rbd', 'mgr', 'profile rbd pool=rbd'];

/** The user's keyring as `ceph auth get-or-create` prints it. */
export function leastPrivilegeKeyring(): string {
  return ceph('auth', 'get-or-create', `client.${CEPH_USER}`, ...CAPS);
}

/** ceph.conf as a node has it: the sandbox's fsid and monitors (127.0.0.1). */
export function nodeCephConf(): string {
  const conf = fs.readFileSync(process.env.CEPH_CONF!, 'utf8');
  const fsid = /^fsid\s*=\s*(\S+)/m.exec(conf)![1];
  return `[global]\nfsid = ${fsid}\nmon host = ${process.env.CEPH_MON_HOST}\n`;
}

/**
 * A directory shaped like a labelled node's /etc/ceph: ceph.conf and the
 * least-privilege user's keyring, the keyring group-readable by gid 1000 only
 * (docs/deploy.md's chgrp 1000 + chmod 0640).
 */
export function nodeEtcCeph(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-etc-ceph-'));
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'ceph.conf'), nodeCephConf(), { mode: 0o644 });
  const keyring = path.join(dir, `ceph.client.${CEPH_USER}.keyring`);
  fs.writeFileSync(keyring, leastPrivilegeKeyring(), { mode: 0o640 });
  fs.chownSync(keyring, 0, 1000);
  fs.chmodSync(keyring, 0o640);
  return dir;
}

function kubectl(...args: string[]): string {
  return execFileSync(process.env.KUBECTL || 'kubectl', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const parse = (text: string): Obj[] => parseAllDocuments(text).map((doc) => doc.toJS() as Obj);
export const toYaml = (docs: Obj[]): string => docs.map((doc) => stringify(doc)).join('---\n');

/**
 * deploy/kubernetes as `kubectl kustomize` renders it, changed only where this
 * machine needs it (docs/deploy.md lists the same changes):
 * - the image: the local tag built here (`localhost/rbd-functions/base:<tag>`);
 * - `hostNetwork: true` and no `ports:`: the sandbox's monitors listen on
 *   127.0.0.1 only, so the pod shares the host's network, and podman refuses
 *   port mappings with it; the probes then name the port by number;
 * - the port: a free loopback port (env `port`), as 8080 may be taken here;
 * - `replicas: 1`: two replicas on one network would collide on that port;
 * - the hostPath's source: a directory shaped like a node's /etc/ceph.
 * The Secret is not in the file: podman 4.3 reads a secretKeyRef only from a
 * podman secret holding a JSON map (see createTokenSecret).
 */
export function renderKubernetes(options: { tag: string; port: number; etcCeph: string }): { docs: Obj[]; deployment: Obj } {
  const docs = parse(kubectl('kustomize', 'deploy/kubernetes'));
  const deployment = docs.find((doc) => doc.kind === 'Deployment')!;
  const pod = deployment.spec.template.spec;
  deployment.spec.replicas = 1;
  pod.hostNetwork = true;
  for (const container of pod.containers as Obj[]) {
    container.image = `localhost/rbd-functions/base:${options.tag}`;
    delete container.ports;
    container.env.push({ name: 'port', value: String(options.port) });
    for (const probe of [container.readinessProbe, container.livenessProbe]) probe.httpGet.port = options.port;
  }
  const ceph = (pod.volumes as Obj[]).find((volume) => volume.hostPath?.path === '/etc/ceph')!;
  ceph.hostPath.path = options.etcCeph;
  return { docs, deployment };
}

/** stack.yml with faas-cli's `${VAR:-default}` substituted from the defaults, as `faas-cli deploy` would without those variables. */
export function stackFunctions(): [string, Obj][] {
  const text = fs.readFileSync(path.join(root, 'stack.yml'), 'utf8').replace(/\$\{(\w+):-([^}]*)\}/g, (_m, _name: string, fallback: string) => fallback);
  return Object.entries(parse(text)[0]!.functions as Record<string, Obj>);
}

/**
 * The stack.yml functions given a port, each as faas-netes deploys it: a Deployment of one pod,
 * the container named after the function with its image, environment,
 * limits and requests, `readonly_root_filesystem` as a read-only root plus a
 * writable emptyDir at /tmp, the probes on /_/health, and every listed
 * secret's keys as files under /var/openfaas/secrets/, no hostPath. Changed
 * for this machine: the image tag, `hostNetwork: true` with a port of its own
 * per function (env `port`, as above), and the secrets: faas-netes projects
 * one Secret per name into the directory, podman 4.3 has no projected volumes,
 * so one secret `openfaas-secrets` holds every key (see createVolumeSecret;
 * defaultMode and optional are set: without them podman 4.3 crashes on a
 * secret volume).
 */
export function renderOpenFaas(options: { tag: string; ports: Map<string, number> }): Obj[] {
  return stackFunctions()
    .filter(([name]) => options.ports.has(name))
    .map(([name, fn]): Obj => {
    const port = options.ports.get(name)!;
    const probe = { httpGet: { path: '/_/health', port }, periodSeconds: 2, timeoutSeconds: 1 };
    const resources = (r: Obj) => ({ cpu: r.cpu, memory: r.memory });
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels: { faas_function: name, ...fn.labels }, annotations: fn.annotations },
      spec: {
        replicas: 1,
        selector: { matchLabels: { faas_function: name } },
        template: {
          metadata: { labels: { faas_function: name, ...fn.labels }, annotations: fn.annotations },
          spec: {
            hostNetwork: true,
            containers: [
              {
                name,
                image: (fn.image as string).replace(/:[^:/]+$/, `:${options.tag}`),
                env: [...Object.entries(fn.environment as Record<string, string>).map(([k, v]) => ({ name: k, value: String(v) })), { name: 'port', value: String(port) }],
                resources: { limits: resources(fn.limits), requests: resources(fn.requests) },
                readinessProbe: probe,
                livenessProbe: probe,
                securityContext: { readOnlyRootFilesystem: fn.readonly_root_filesystem === true, allowPrivilegeEscalation: false },
                volumeMounts: [
                  { name: 'openfaas-secrets', mountPath: '/var/openfaas/secrets', readOnly: true },
                  { name: 'temp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'openfaas-secrets', secret: { secretName: 'openfaas-secrets', defaultMode: 0o444, optional: false } },
              { name: 'temp', emptyDir: {} },
            ],
          },
        },
      },
    };
  });
}

/**
 * The podman secret a `secretKeyRef` reads: podman 4.3 takes it from a podman
 * secret holding {"key": base64}, not from a Secret played in the same file
 * (which it stores as YAML, and a secretKeyRef marked optional then silently
 * yields nothing).
 */
export async function createTokenSecret(name: string, key: string, value: string): Promise<void> {
  await createSecret(name, { [key]: Buffer.from(value).toString('base64') });
}

/**
 * The podman secret a `secret` volume reads. podman 4.3 writes a Secret's
 * `data` values to the files as they are, not base64-decoded, and ignores
 * `stringData`, so a Secret document in the played file cannot carry the
 * files' contents: the test creates the podman secret with the values as they
 * are to appear.
 */
export async function createVolumeSecret(name: string, files: Record<string, string>): Promise<void> {
  await createSecret(name, { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: files });
}

async function createSecret(name: string, content: Obj): Promise<void> {
  await removeSecret(name);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'podman-secret-')), 'secret.json');
  fs.writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
  try {
    await engineRun('secret', 'create', name, file);
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

/**
 * Removes the podman secret, and the volume podman 4.3 made of it for a
 * `secret` volume: that outlives `kube down`, and the next play would mount
 * its old files instead of the secret's.
 */
export async function removeSecret(name: string): Promise<void> {
  await engineRun('secret', 'rm', name).catch(() => undefined);
  await engineRun('volume', 'rm', '--force', name).catch(() => undefined);
}

export interface PlayedContainer {
  Id: string;
  Names: string[];
  Pod: string;
  IsInfra: boolean;
  ExitCode: number;
  State: string;
}

/** A played YAML file: its pods' containers, logs, stop and removal. */
export class Played {
  private constructor(
    readonly file: string,
    private readonly docs: Obj[],
  ) {}

  static async play(docs: Obj[]): Promise<Played> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-play-'));
    const file = path.join(dir, 'played.yaml');
    fs.writeFileSync(file, toYaml(docs));
    const played = new Played(file, docs);
    try {
      await engineRun('kube', 'play', file);
    } catch (err) {
      await played.down();
      throw err;
    }
    return played;
  }

  /** The pods' containers, infra containers included. */
  async containers(): Promise<PlayedContainer[]> {
    const found: PlayedContainer[] = [];
    for (const pod of await this.podNames()) {
      found.push(...(JSON.parse(await engineRun('ps', '--all', '--filter', `pod=${pod}`, '--format', 'json')) as PlayedContainer[]));
    }
    return found;
  }

  async podNames(): Promise<string[]> {
    // podman names a Deployment's pods <name>-pod-<replica>, a Pod's after itself.
    return this.docs.flatMap((doc) =>
      doc.kind === 'Deployment' ? Array.from({ length: doc.spec.replicas ?? 1 }, (_, i) => `${doc.metadata.name}-pod-${i}`) : doc.kind === 'Pod' ? [doc.metadata.name] : [],
    );
  }

  async logs(container: string): Promise<string> {
    return engineRun('logs', container).catch((err: Error) => err.message);
  }

  /**
   * SIGTERM to every container, with the pod's grace period: podman 4.3.1's
   * `kube down` stops with no grace at all (SIGKILL, exit 137), so the pods are
   * stopped first, as the kubelet stops a deleted pod.
   */
  async stop(graceSeconds: number): Promise<PlayedContainer[]> {
    for (const pod of await this.podNames()) await engineRun('pod', 'stop', '--time', String(graceSeconds), pod);
    return this.containers();
  }

  /** podman kube down: removes what play started. */
  async down(): Promise<void> {
    if (!fs.existsSync(this.file)) return;
    await engineRun('kube', 'down', this.file).catch(() => undefined);
    fs.rmSync(path.dirname(this.file), { recursive: true, force: true });
  }
}
