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
