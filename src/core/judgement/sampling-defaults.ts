/**
 * The sampler's sampling defaults, in a module without dependencies so that the configuration
 * schemas (bundled into every handler) can name them without pulling the judgement code in.
 */

/**
 * A sensible cap on exec starts per second for a shared cluster: about the seats a default
 * kube-apiserver gives the API Priority and Fairness level `global-default`, where an EKS IAM
 * identity mapped to a group lands (600 seats × 20 of 245 nominal shares ≈ 49). Exec streams are
 * long-running requests that APF stops counting once upgraded, so only their starts can be paced.
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
