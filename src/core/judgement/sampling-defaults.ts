/**
 * The sampler's sampling defaults, in a module without dependencies so that the configuration
 * schemas (bundled into every handler) can name them without pulling the judgement code in.
 */

/**
 * A cap on exec starts per second for a shared cluster. The API server does not protect itself
 * from an exec flood: long-running requests (exec, attach, port-forward) bypass API Priority and
 * Fairness and the max-in-flight limits, yet each one holds a stream proxied to a kubelet and
 * starts a process in the sidecar. 50 a second keeps about 18 streams open at a 0.36 s mean exec,
 * under the ~49 concurrent requests APF's defaults give the `global-default` level an EKS IAM
 * identity's ordinary requests land in (600 seats × 20 of 245 nominal shares).
 */
export const DEFAULT_MAX_EXEC_STARTS_PER_SECOND = 50;

/**
 * The default maximum age of an observation: tbot's renewal interval (20 min), four sweeps at the
 * default 5-minute schedule, a third of a 1-hour SVID's life. Shorter buys nothing for tbot pods:
 * they come due at their renewal point every 20 minutes anyway, and a max age below it adds a
 * sample of the same leaf a few minutes before that point (15 min would halve the saving for them).
 * Istio-agent pods (leaves of hours) are sampled once per this age, each at its own slot.
 */
export const DEFAULT_MAX_OBSERVATION_AGE_SECONDS = 20 * 60;

/** Time the sampler keeps for the ledger write and the PutEvents calls after sampling stops. */
export const PUBLISH_ALLOWANCE_SECONDS = 10;

/**
 * How long before the invocation ends the sampler stops starting samples: the configured margin,
 * and never less than two execs of one pod (active secrets, then warming) plus the publish
 * allowance, since a pod started just before the deadline may take that long.
 */
export function sweepDeadlineMarginSeconds(input: { readonly marginSeconds: number; readonly sampleTimeoutSeconds: number }): number {
  return Math.max(input.marginSeconds, 2 * input.sampleTimeoutSeconds + PUBLISH_ALLOWANCE_SECONDS);
}

/**
 * Exec starts one sweep can make at most: the cluster's budget a second over the sampling window
 * (the sampler's timeout less the deadline margin). The cluster's ceiling ("Scale and sizing").
 */
export function execsPerSweepCeiling(input: {
  readonly maxExecStartsPerSecond: number;
  readonly timeoutSeconds: number;
  readonly marginSeconds: number;
  readonly sampleTimeoutSeconds: number;
}): number {
  return Math.max(0, Math.floor(input.maxExecStartsPerSecond * (input.timeoutSeconds - sweepDeadlineMarginSeconds(input))));
}
