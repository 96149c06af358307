/**
 * `mesh-cert-watch watch`: samples a pod, namespaces or a label selector every `--interval` with
 * rotation history kept in memory, and prints one line per rotation (old serial → new serial,
 * when, interval) and per problem (when it appears or changes). `--until-rotation` turns it into
 * a check: exit 0 once every watched pod rotated, 1 as soon as one is overdue for renewal (or
 * when `--duration` ends first). Serials print in tbot's log form and the report's form.
 */
import { randomUUID } from 'node:crypto';
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from '../core/model/errors.js';
import { colonSerial, indexSnapshot, nextSnapshot, type PodObservation } from '../core/judgement/history.js';
import { formatDuration } from '../core/render/render.js';
import { renderProblemEvent, renderRotationEvent, renderSerial } from '../core/render/render-history.js';
import { runSweep, type SweepSource } from '../core/judgement/sweep.js';
import type { PodReport } from '../core/model/types.js';
import { KubeClient, loadKubeConfig } from '../kube/kube-client.js';
import { kubeSweepSource } from '../kube/kube-sweep.js';
import { parseCommandArgs } from './input.js';
import { EXIT, type CliIo } from './io.js';
import { renewalPolicyFrom, ROTATION_HELP, ROTATION_OPTIONS, seconds } from './rotation-options.js';
import { COMMON_OPTIONS, THRESHOLD_HELP, commonSettings, durationMs, positiveInteger } from './settings.js';

export const WATCH_HELP = `Usage: mesh-cert-watch watch [POD] [options]

Samples the selected pods every --interval, keeping their rotation history in memory, and
prints one line per rotation (old serial -> new serial, when, interval since the previous
leaf) and one per problem, when it appears or changes. Serials print in tbot's log form
(45:29:a5:...) followed by the report's form in parentheses, so both grep.

  mesh-cert-watch watch carts-7d9f-abcde -n shop --until-rotation --duration 30m
  mesh-cert-watch watch -n shop -l app=carts --interval 1m

Select (one of, or POD with its namespace):
  POD                      this pod (in -n NS, default "default")
  -n, --namespace NS       pods of this namespace; repeat for several
  -l, --selector SELECTOR  pods matching this label selector (app=carts,tier!=db)
Options:
  --interval D             time between two samples                [default 30s]
  --until-rotation         exit 0 once every watched pod rotated, 1 as soon as one is
                           overdue for renewal (or when --duration ends first)
  --duration D             stop after D (exit 0, or 1 with --until-rotation)
${ROTATION_HELP}
  -o, --output FORMAT      text (default) or json (one JSON object per line)
  --kubeconfig FILE, --context NAME, --cluster NAME, --timeout D, --concurrency N
                           as for sweep
${THRESHOLD_HELP}
`;

const WATCH_OPTIONS = {
  ...COMMON_OPTIONS,
  ...ROTATION_OPTIONS,
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  cluster: { type: 'string' },
  namespace: { type: 'string', short: 'n', multiple: true },
  selector: { type: 'string', short: 'l' },
  interval: { type: 'string' },
  'until-rotation': { type: 'boolean' },
  duration: { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Time as `watch` sees it: the wall clock, or a fake one in tests (no sleeping). */
export interface WatchRuntime {
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

const realRuntime: WatchRuntime = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

interface WatchedPod {
  readonly namespace: string;
  readonly name: string;
  rotations: number;
  /** The last problem line key printed (state + findings), to print changes only. */
  problem: string;
}

export async function watchCommand(args: readonly string[], io: CliIo, runtime: WatchRuntime = realRuntime): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, WATCH_OPTIONS, true);
  if (values.help) {
    io.stdout(WATCH_HELP);
    return EXIT.ok;
  }
  const common = commonSettings(values, ['text', 'json']);
  if (common.now) throw new UsageError('--now', 'watch samples the present; use sweep --now to replay an instant');
  if (positionals.length > 1) throw new UsageError('POD', 'watch takes at most one POD (use -l SELECTOR for several)');
  const podName = positionals[0];
  if (podName !== undefined && (values.namespace?.length ?? 0) > 1) throw new UsageError('--namespace', 'a POD lives in one namespace: give one -n');
  if (podName !== undefined && values.selector !== undefined) throw new UsageError('--selector', 'give a POD or a selector, not both');
  const intervalSeconds = seconds('--interval', values.interval, 30, 1);
  const durationSeconds = values.duration === undefined ? null : seconds('--duration', values.duration, 0, 1);
  const untilRotation = values['until-rotation'] === true;
  const renewal = renewalPolicyFrom(values);
  const concurrency = positiveInteger('--concurrency', values.concurrency, 16);
  const timeoutMs = durationMs('--timeout', values.timeout, 10_000);

  const kubeConfig = loadKubeConfig({
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context !== undefined ? { context: values.context } : {}),
  });
  const cluster = values.cluster ?? kubeConfig.getCurrentCluster()?.name ?? kubeConfig.getCurrentContext();
  const namespaces = podName !== undefined ? [values.namespace?.[0] ?? 'default'] : values.namespace;
  const kube = kubeSweepSource(new KubeClient(kubeConfig), {
    ...(namespaces ? { namespaces } : {}),
    ...(values.selector !== undefined ? { labelSelector: values.selector } : {}),
    sampler: { timeoutMs, maxOutputBytes: 4 * 1024 * 1024 },
  });
  const source: SweepSource = podName === undefined ? kube : onlyPod(kube, podName);
  const scope = podName !== undefined ? `pod ${namespaces![0]}/${podName}` : [values.selector ? `selector ${values.selector}` : '', namespaces ? `namespace ${namespaces.join(',')}` : 'all namespaces'].filter(Boolean).join(' in ');

  const json = common.output === 'json';
  const emit = (line: string, record: Record<string, unknown>): void => io.stdout(json ? `${JSON.stringify(record)}\n` : `${line}\n`);
  const startedMs = runtime.now().getTime();
  const deadlineMs = durationSeconds === null ? null : startedMs + durationSeconds * 1000;
  const watched = new Map<string, WatchedPod>();
  let previous: ReadonlyMap<string, PodObservation> = new Map();
  let first = true;

  for (;;) {
    const now = runtime.now();
    const at = now.toISOString();
    const report = await runSweep(source, {
      cluster,
      sweepId: randomUUID(),
      thresholds: common.thresholds,
      concurrency,
      now,
      clock: runtime.now,
      history: { previous, renewal },
    });
    previous = indexSnapshot(nextSnapshot({ cluster, sweepId: report.sweepId, now: report.now, partial: report.partial, pods: report.pods, previous }));

    const isFirst = first;
    first = false;
    if (isFirst) {
      if (report.pods.length === 0) {
        if (untilRotation) throw new UsageError(podName !== undefined ? 'POD' : '--selector', `no Running injected pod matches ${scope}: nothing to watch`);
        emit(`${at} WATCHING nothing yet (${scope}); sampling every ${formatDuration(intervalSeconds)}`, { type: 'watching', at, scope, pods: [] });
      } else {
        emit(
          `${at} WATCHING ${report.pods.length} pod${report.pods.length === 1 ? '' : 's'} (${scope}) every ${formatDuration(intervalSeconds)}${untilRotation ? ', until each rotates' : ''}`,
          { type: 'watching', at, scope, intervalSeconds, pods: report.pods.map((p) => `${p.namespace}/${p.name}`) },
        );
        for (const pod of report.pods) emit(`${at} LEAF ${pod.namespace}/${pod.name} ${describeLeaf(pod)}`, { type: 'leaf', at, ...leafRecord(pod) });
      }
    }

    const seen = new Set<string>();
    for (const pod of report.pods) {
      seen.add(pod.uid);
      let entry = watched.get(pod.uid);
      if (!entry) {
        entry = { namespace: pod.namespace, name: pod.name, rotations: 0, problem: '' };
        if (!isFirst) emit(`${at} NEW ${pod.namespace}/${pod.name} ${describeLeaf(pod)}`, { type: 'new', at, ...leafRecord(pod) });
        watched.set(pod.uid, entry);
      }
      const rotated = renderRotationEvent(pod, at);
      if (rotated !== null) {
        entry.rotations++;
        emit(rotated, { type: 'rotation', at, ...rotationRecord(pod) });
      }
      const problemKey = pod.state === 'healthy' && pod.findings.length === 0 ? '' : `${pod.state}:${pod.findings.join(',')}:${pod.rotation?.provenAcrossSweeps === true}`;
      if (problemKey !== entry.problem) {
        const line = renderProblemEvent(pod, at);
        if (line !== null) emit(line, { type: 'problem', at, ...problemRecord(pod) });
        else emit(`${at} RECOVERED ${pod.namespace}/${pod.name}`, { type: 'recovered', at, namespace: pod.namespace, name: pod.name, uid: pod.uid });
        entry.problem = problemKey;
      }
    }
    for (const [uid, entry] of watched) {
      if (seen.has(uid) || report.partial) continue;
      watched.delete(uid);
      emit(`${at} GONE ${entry.namespace}/${entry.name}`, { type: 'gone', at, namespace: entry.namespace, name: entry.name, uid });
    }

    if (untilRotation) {
      const overdue = report.pods.filter((pod) => (pod.rotation?.overdueSeconds ?? 0) > 0 || pod.rotation?.provenAcrossSweeps === true);
      if (overdue.length > 0) {
        const names = overdue.map((p) => `${p.namespace}/${p.name}`).join(', ');
        emit(`${at} FAILED overdue for renewal: ${names}`, { type: 'result', at, outcome: 'overdue', pods: names.split(', ') });
        return EXIT.failOn;
      }
      const waiting = [...watched.values()].filter((entry) => entry.rotations === 0);
      if (watched.size > 0 && waiting.length === 0) {
        emit(`${at} OK every watched pod rotated (${watched.size})`, { type: 'result', at, outcome: 'rotated', pods: watched.size });
        return EXIT.ok;
      }
    }

    const nextMs = runtime.now().getTime() + intervalSeconds * 1000;
    if (deadlineMs !== null && nextMs > deadlineMs) {
      if (!untilRotation) return EXIT.ok;
      const waiting = [...watched.values()].filter((entry) => entry.rotations === 0).map((e) => `${e.namespace}/${e.name}`);
      const end = runtime.now().toISOString();
      emit(`${end} FAILED --duration ${formatDuration(durationSeconds!)} ended before every pod rotated; waiting for: ${waiting.join(', ')}`, {
        type: 'result',
        at: end,
        outcome: 'timeout',
        pods: waiting,
      });
      return EXIT.failOn;
    }
    await runtime.sleep(intervalSeconds * 1000);
  }
}

/** A source that samples one named pod of its namespace listing. */
function onlyPod(source: SweepSource, name: string): SweepSource {
  return {
    ...source,
    listPods: async function* () {
      for await (const listing of source.listPods()) {
        const listed = listing.kind === 'target' ? listing.target.name : listing.name;
        if (listed === name) yield listing;
      }
    },
  };
}

function describeLeaf(pod: PodReport): string {
  if (!pod.certificate) return `${pod.state}${pod.error ? `: ${pod.error}` : ''}`;
  const expected = pod.rotation?.expectedRenewalAt ? `, renewal expected by ${pod.rotation.expectedRenewalAt}` : '';
  return `${pod.source} serial ${renderSerial(pod.certificate.serialNumber)} issued ${pod.certificate.notBefore}${expected}`;
}

function serials(serialNumber: string): { serialNumber: string; serialNumberColons: string } {
  return { serialNumber, serialNumberColons: colonSerial(serialNumber) };
}

/** The fields every JSON line starts with: which pod, and who issues its certificate. */
function podIdentity(pod: PodReport): Pick<PodReport, 'namespace' | 'name' | 'uid' | 'source'> {
  return { namespace: pod.namespace, name: pod.name, uid: pod.uid, source: pod.source };
}

function leafRecord(pod: PodReport): Record<string, unknown> {
  return {
    ...podIdentity(pod),
    state: pod.state,
    ...(pod.certificate ? { ...serials(pod.certificate.serialNumber), notBefore: pod.certificate.notBefore, notAfter: pod.certificate.notAfter } : {}),
    ...(pod.rotation ? { expectedRenewalAt: pod.rotation.expectedRenewalAt } : {}),
  };
}

function rotationRecord(pod: PodReport): Record<string, unknown> {
  const interval = (Date.parse(pod.certificate!.notBefore) - Date.parse(pod.previous!.notBefore)) / 1000;
  return {
    ...podIdentity(pod),
    previous: { ...serials(pod.previous!.serialNumber), notBefore: pod.previous!.notBefore },
    current: { ...serials(pod.certificate!.serialNumber), notBefore: pod.certificate!.notBefore, notAfter: pod.certificate!.notAfter },
    intervalSeconds: Number.isFinite(interval) ? Math.round(interval) : null,
  };
}

function problemRecord(pod: PodReport): Record<string, unknown> {
  return {
    ...podIdentity(pod),
    state: pod.state,
    findings: pod.findings,
    ...(pod.certificate ? serials(pod.certificate.serialNumber) : {}),
    ...(pod.rotation ? { rotation: pod.rotation } : {}),
    ...(pod.error !== undefined ? { error: pod.error } : {}),
  };
}
