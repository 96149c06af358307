/**
 * The tbot node scenario of `simulate`: one node whose tbot agent runs an affected release
 * (renewed SVIDs not sent to Envoy, fixed in 18.6.4). Every tbot pod on it gets a fresh SVID when
 * its SDS stream opens and none after, so it expires one lifetime later unless the stream is
 * reopened (a new pod, or a restarted agent). Minute by minute, for the same hours as the main
 * simulation, three remedies are compared on the node's pods:
 * - the watcher, node-aware: at the first sweep where the pods are actionable it restarts the
 *   node's agent (one restart for all of them): application restarts 0;
 * - the watcher restarting workloads (agent restarts off): every pod's workload is restarted;
 * - the 45-minute CronJob: every pod restarted every 45 minutes, broken or not.
 * Pure and deterministic.
 */
export interface TbotNodeSettings {
  /** tbot pods on the affected node. */
  readonly podsOnNode: number;
  readonly hours: number;
  readonly scheduleMinutes: number;
  readonly lifetimeMinutes: number;
  /** Share of the lifetime after which a leaf is stale, and remaining share under which it is expiring. */
  readonly staleAfterShare: number;
  readonly expiringWithinShare: number;
  /** Act at the first sweep after the first missed renewal (rotation history proves it) instead of at expiring. */
  readonly actAtProvenStale: boolean;
  /** tbot renewal_interval and the history slack, minutes: the first missed renewal. */
  readonly renewalMinutes: number;
  readonly slackMinutes: number;
  readonly cronJobMinutes: number;
}

export interface TbotNodeResult {
  readonly settings: TbotNodeSettings;
  /** Minutes from issuance to the sweep that acts. */
  readonly actAfterMinutes: number;
  readonly watcher: { readonly agentRestartsPerDay: number; readonly applicationRestartsPerDay: number; readonly expired: number };
  readonly watcherWorkloadsOnly: { readonly applicationRestartsPerDay: number; readonly expired: number };
  readonly cronJob: { readonly applicationRestartsPerDay: number };
}

export function simulateTbotNode(settings: TbotNodeSettings): TbotNodeResult {
  const minutes = Math.round(settings.hours * 60);
  const perDay = (count: number): number => Math.round((count * 24 * 60) / minutes);
  // The sweep (every scheduleMinutes, at minute 0, s, 2s…) that first sees the pods actionable.
  const actionableAge = settings.actAtProvenStale
    ? settings.renewalMinutes + settings.slackMinutes
    : settings.lifetimeMinutes * (1 - settings.expiringWithinShare);
  const run = (onAct: () => number): { restarts: number; expired: number } => {
    let streamOpenedAt = 0;
    let restarts = 0;
    let expired = 0;
    for (let minute = 0; minute < minutes; minute++) {
      const age = minute - streamOpenedAt;
      if (age >= settings.lifetimeMinutes) expired++;
      if (minute % settings.scheduleMinutes === 0 && age >= actionableAge) {
        restarts += onAct();
        streamOpenedAt = minute + 1;
      }
    }
    return { restarts, expired };
  };
  const agent = run(() => 1);
  const workloads = run(() => settings.podsOnNode);
  const cronJobRestarts = Math.floor(minutes / settings.cronJobMinutes) * settings.podsOnNode;
  const firstSweep = Math.ceil(actionableAge / settings.scheduleMinutes) * settings.scheduleMinutes;
  return {
    settings,
    actAfterMinutes: firstSweep,
    watcher: { agentRestartsPerDay: perDay(agent.restarts), applicationRestartsPerDay: 0, expired: agent.expired },
    watcherWorkloadsOnly: { applicationRestartsPerDay: perDay(workloads.restarts), expired: workloads.expired },
    cronJob: { applicationRestartsPerDay: perDay(cronJobRestarts) },
  };
}

export function renderTbotNode(result: TbotNodeResult): string {
  const s = result.settings;
  const when = s.actAtProvenStale
    ? `at the first sweep after the first missed renewal (renewal ${s.renewalMinutes} min + slack ${s.slackMinutes} min, proven with rotation history)`
    : `at the first sweep where the leaf is expiring (< ${Math.round(s.expiringWithinShare * 100)} % left)`;
  return [
    `tbot node (one node whose agent does not send renewed SVIDs, ${s.podsOnNode} tbot pods on it, until someone upgrades it):`,
    `  the watcher acts ${when}: ${result.actAfterMinutes} min after issuance, then again one cycle after each restart`,
    `  watcher, node-aware: ${result.watcher.agentRestartsPerDay} tbot agent restarts per day, ${result.watcher.applicationRestartsPerDay} application restarts per day, ${result.watcher.expired} pod-minutes expired`,
    `  watcher, restarting workloads: ${result.watcherWorkloadsOnly.applicationRestartsPerDay} application restarts per day, ${result.watcherWorkloadsOnly.expired} pod-minutes expired`,
    `  CronJob (${s.cronJobMinutes} min): ${result.cronJob.applicationRestartsPerDay} application restarts per day of these pods`,
  ].join('\n');
}
