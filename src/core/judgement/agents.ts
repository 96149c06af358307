/**
 * The per-node tbot agent as a first-class object (docs/contract.md §3 `tbot-outdated`, §4.1
 * `agents[]`). tbot runs as a DaemonSet (one agent pod per node, `workload-identity-api` on a
 * hostPath socket the SPIFFE CSI driver maps into pods), so every tbot-served pod on a node gets
 * its SVIDs from that node's agent: an agent running a release with a rotation bug breaks every
 * pod it serves, and restarting or upgrading it fixes all of them at once.
 *
 * Facts (shared research §6, Teleport CHANGELOG v17/v18):
 * - PR #62813 "renewed X509-SVIDs not proactively sent to Envoy": fixed in 18.6.4 and 17.7.14.
 *   Older agents re-send the cached SVID on every renewal tick; Envoy keeps the old leaf.
 * - PR #56626 "Workload API fails to renew SPIFFE SVIDs": fixed in 18.0.1 and 17.5.5.
 * - Majors below 17 are out of support and carry both bugs (the v16 backport of #56626 exists,
 *   the #62813 fix was not backported to 16).
 * Pure: no I/O.
 */
import { STATE_SEVERITY, type AgentReport, type PodAgentRef, type PodReport } from '../model/types.js';

/** Where the tbot agents run. */
export interface TbotAgentSelector {
  /** Namespace of the tbot DaemonSet. */
  readonly namespace: string;
  /** Label selector of its pods (Kubernetes syntax, e.g. `app=tbot`). */
  readonly labelSelector: string;
}

/** The shape of a Kubernetes label selector (the API server judges the rest). */
export const LABEL_SELECTOR_PATTERN = /^[A-Za-z0-9._/!=, ()-]+$/;
/** RFC 1123 label: a namespace name. */
export const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The deployments this product was made for run tbot as `app=tbot` in `teleport-system`. */
export const DEFAULT_TBOT_AGENTS: TbotAgentSelector = { namespace: 'teleport-system', labelSelector: 'app=tbot' };

/** One tbot agent pod as listed (before mapping). */
export interface AgentPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string;
  /** Image of the tbot container (the container named `tbot`, else the first). */
  readonly image: string | null;
  /** From the image tag, `X.Y.Z[-pre]` without a `v`; null when the tag is not a version. */
  readonly version: string | null;
  /** Pod condition Ready is True, and the pod is not terminating. */
  readonly ready: boolean;
  readonly terminating: boolean;
  readonly createdAt: string | null;
}

/** A tbot release that fixed a rotation bug. */
export interface TbotRotationFix {
  readonly id: 'svid-not-pushed' | 'workload-api-renewal';
  readonly title: string;
  readonly pullRequest: string;
  /** First fixed release per major. */
  readonly fixedIn: Readonly<Record<17 | 18, string>>;
}

export const TBOT_ROTATION_FIXES: readonly TbotRotationFix[] = [
  {
    id: 'svid-not-pushed',
    title: 'renewed X509-SVIDs not proactively sent to Envoy',
    pullRequest: 'gravitational/teleport#62813',
    fixedIn: { 18: '18.6.4', 17: '17.7.14' },
  },
  {
    id: 'workload-api-renewal',
    title: 'Workload API fails to renew SPIFFE SVIDs',
    pullRequest: 'gravitational/teleport#56626',
    fixedIn: { 18: '18.0.1', 17: '17.5.5' },
  },
];

/** The release to recommend: the newest fix of the agent's own major (18 for majors below 17). */
export const TBOT_RECOMMENDED: Readonly<Record<17 | 18, string>> = { 18: '18.6.4', 17: '17.7.14' };

interface ParsedVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: boolean;
}

const VERSION_TAG = /^v?(\d+)\.(\d+)\.(\d+)((?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/;

/**
 * The tbot version an image reference names, or null. Handles a registry with a port
 * (`registry:5000/tbot:18.2.1`), digests (`…@sha256:…`, with or without a tag), a `v` prefix and
 * build suffixes (`18.2.1-amd64`). A digest alone, `latest` or any non-version tag gives null:
 * an unknown version is never judged outdated.
 */
export function imageVersion(image: string | null | undefined): string | null {
  if (!image) return null;
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastPart = withoutDigest.slice(lastSlash + 1);
  const colon = lastPart.lastIndexOf(':');
  if (colon < 0) return null;
  const tag = lastPart.slice(colon + 1);
  const match = VERSION_TAG.exec(tag);
  if (!match) return null;
  return tag.startsWith('v') ? tag.slice(1) : tag;
}

function parseVersion(version: string): ParsedVersion | null {
  const match = VERSION_TAG.exec(version);
  if (!match) return null;
  // `-rc.1`, `-beta.2`, `-dev…` are pre-releases; `-amd64`-style build suffixes are not.
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), prerelease: /^-(?:alpha|beta|rc|dev|pre)/i.test(match[4] ?? '') };
}

/** True when `version` is an earlier release than `fixed` (a pre-release of the fix is earlier). */
function before(version: ParsedVersion, fixed: ParsedVersion): boolean {
  if (version.major !== fixed.major) return version.major < fixed.major;
  if (version.minor !== fixed.minor) return version.minor < fixed.minor;
  if (version.patch !== fixed.patch) return version.patch < fixed.patch;
  return version.prerelease && !fixed.prerelease;
}

export interface TbotVersionVerdict {
  /** The rotation bugs this version has (empty: none known, or the version is unknown). */
  readonly bugs: readonly TbotRotationFix[];
  /** The release to upgrade to, or null when not outdated. */
  readonly upgradeTo: string | null;
}

/** Which known rotation bugs a tbot version has, and what to upgrade to. */
export function judgeTbotVersion(version: string | null): TbotVersionVerdict {
  const parsed = version === null ? null : parseVersion(version);
  if (parsed === null || parsed.major >= 19) return { bugs: [], upgradeTo: null };
  if (parsed.major < 17) return { bugs: [...TBOT_ROTATION_FIXES], upgradeTo: TBOT_RECOMMENDED[18] };
  const major = parsed.major as 17 | 18;
  const bugs = TBOT_ROTATION_FIXES.filter((fix) => before(parsed, parseVersion(fix.fixedIn[major])!));
  return { bugs, upgradeTo: bugs.length > 0 ? TBOT_RECOMMENDED[major] : null };
}

/** `upgrade tbot on node X (18.2.1 → 18.6.4)`: the exact advice for one outdated agent. */
export function tbotUpgradeAdvice(node: string, version: string | null): string | null {
  const { upgradeTo } = judgeTbotVersion(version);
  return upgradeTo === null ? null : `upgrade tbot on node ${node} (${version} → ${upgradeTo})`;
}

/** The bug titles of a version, for a "why" clause: `renewed X509-SVIDs not proactively sent to Envoy (gravitational/teleport#62813)`. */
export function tbotBugSummary(version: string | null): string {
  return judgeTbotVersion(version)
    .bugs.map((bug) => `${bug.title} (${bug.pullRequest}, fixed in ${bug.fixedIn[18]} / ${bug.fixedIn[17]})`)
    .join('; ');
}

/**
 * The agent serving each node: a Ready pod that is not terminating wins, then the newest. Agent
 * pods without a node (Pending, unscheduled) serve nobody.
 */
export function agentsByNode(agents: readonly AgentPod[]): Map<string, AgentPod> {
  const byNode = new Map<string, AgentPod>();
  const rank = (a: AgentPod): number => (a.ready && !a.terminating ? 2 : a.terminating ? 0 : 1);
  for (const agent of agents) {
    if (agent.node === '') continue;
    const current = byNode.get(agent.node);
    if (
      current === undefined ||
      rank(agent) > rank(current) ||
      (rank(agent) === rank(current) && (agent.createdAt ?? '') > (current.createdAt ?? ''))
    ) {
      byNode.set(agent.node, agent);
    }
  }
  return byNode;
}

/** The per-pod reference to its agent. */
export function podAgentRef(agent: AgentPod): PodAgentRef {
  return { pod: agent.name, version: agent.version };
}

/**
 * The report's `agents[]` section: one entry per node that has an agent, with the pods it serves
 * and how many of them are not healthy. Outdated agents first, then the most unhealthy pods.
 */
/** Pods served and pods unhealthy per agent pod name, counted as pods are judged. */
export type AgentServedCounts = Map<string, { served: number; unhealthy: number }>;

/** Counts one judged pod for its agent (the sweep keeps counts, not pods: memory stays flat). */
export function countServedPod(served: AgentServedCounts, pod: Pick<PodReport, 'agent' | 'state'>): void {
  if (!pod.agent) return;
  const counts = served.get(pod.agent.pod) ?? { served: 0, unhealthy: 0 };
  counts.served++;
  if (STATE_SEVERITY[pod.state] > STATE_SEVERITY.healthy) counts.unhealthy++;
  served.set(pod.agent.pod, counts);
}

export function agentsSection(agents: readonly AgentPod[], podsOrCounts: readonly PodReport[] | AgentServedCounts): AgentReport[] {
  let served: AgentServedCounts;
  if (podsOrCounts instanceof Map) {
    served = podsOrCounts;
  } else {
    served = new Map();
    for (const pod of podsOrCounts) countServedPod(served, pod);
  }
  const section = [...agentsByNode(agents).values()].map((agent): AgentReport => {
    const verdict = judgeTbotVersion(agent.version);
    const counts = served.get(agent.name) ?? { served: 0, unhealthy: 0 };
    return {
      node: agent.node,
      pod: agent.name,
      namespace: agent.namespace,
      image: agent.image,
      version: agent.version,
      ready: agent.ready,
      outdated: verdict.bugs.length > 0,
      upgradeTo: verdict.upgradeTo,
      podsServed: counts.served,
      podsUnhealthy: counts.unhealthy,
    };
  });
  return section.sort(
    (a, b) => Number(b.outdated) - Number(a.outdated) || b.podsUnhealthy - a.podsUnhealthy || a.node.localeCompare(b.node),
  );
}
