/** Human output for rotation history: the sweep's rotations line and `watch`'s event lines. */
import { colonSerial } from '../judgement/history.js';
import { formatDuration } from './render.js';
import { cleanText } from '../model/scrub.js';
import type { PodReport, RotationsReport, Source } from '../model/types.js';

const SOURCES: readonly Source[] = ['tbot', 'istio-agent', 'unknown'];

/**
 * `rotations: 41 of 120 pods rotated since the last sweep (tbot 38, interval p50 20m1s max 21m;
 * istio-agent 3, ...); overdue 2, proven across sweeps 1`.
 */
export function renderRotationsLine(rotations: RotationsReport): string {
  const parts = SOURCES.flatMap((source) => {
    const entry = rotations.bySource[source];
    if (!entry || entry.compared === 0) return [];
    const interval =
      entry.intervalSecondsP50 === null || entry.intervalSecondsMax === null
        ? ''
        : `, interval p50 ${formatDuration(entry.intervalSecondsP50)} max ${formatDuration(entry.intervalSecondsMax)}`;
    return [`${source} ${entry.observed}${interval}`];
  });
  const detail = parts.length > 0 ? ` (${parts.join('; ')})` : '';
  const head =
    rotations.compared === 0
      ? 'rotations: no previous observation yet (first sweep with this history)'
      : `rotations: ${rotations.observed} of ${rotations.compared} pods rotated since the last sweep${detail}`;
  return `${head}; overdue ${rotations.overdue}, proven across sweeps ${rotations.provenAcrossSweeps}`;
}

/** `45:29:a5:… (4529A5…)`: tbot's log form and the report's form, so both grep. */
export function renderSerial(serialHex: string): string {
  return `${colonSerial(serialHex)} (${serialHex})`;
}

/** One `watch` line for a pod whose leaf changed since its previous observation. */
export function renderRotationEvent(pod: PodReport, at: string): string | null {
  if (!pod.rotatedSinceLastSweep || !pod.previous || !pod.certificate) return null;
  const interval = (Date.parse(pod.certificate.notBefore) - Date.parse(pod.previous.notBefore)) / 1000;
  return (
    `${at} ROTATED ${pod.namespace}/${pod.name} ${pod.source} ` +
    `${renderSerial(pod.previous.serialNumber)} -> ${renderSerial(pod.certificate.serialNumber)} ` +
    `issued ${pod.certificate.notBefore}, interval ${Number.isFinite(interval) && interval >= 0 ? formatDuration(interval) : 'unknown'}`
  );
}

/** One `watch` line for a pod that is not healthy or has findings; null when it is fine. */
export function renderProblemEvent(pod: PodReport, at: string): string | null {
  if (pod.state === 'healthy' && pod.findings.length === 0) return null;
  const parts = [`${at} ${pod.state.toUpperCase()} ${pod.namespace}/${pod.name} ${pod.source}`];
  if (pod.findings.length > 0) parts.push(pod.findings.join(','));
  if (pod.certificate) parts.push(`serial ${renderSerial(pod.certificate.serialNumber)}`);
  if (pod.rotation && pod.rotation.overdueSeconds > 0 && pod.rotation.expectedRenewalAt) {
    parts.push(`renewal expected ${pod.rotation.expectedRenewalAt}, overdue ${formatDuration(pod.rotation.overdueSeconds)}`);
  }
  if (pod.rotation?.provenAcrossSweeps) parts.push('proven across sweeps: a push carried the old leaf');
  // Dump-provided text must not drive the terminal.
  if (pod.error !== undefined) parts.push(`error: ${cleanText(pod.error)}`);
  return parts.join(' ');
}
