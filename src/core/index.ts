/** The pure engine core: parse Envoy secrets, judge the workload certificate, report. */
export * from './types.js';
export * from './errors.js';
export { DEFAULT_THRESHOLDS, formatThreshold, formatThresholds, parseThreshold, thresholdSeconds } from './threshold.js';
export {
  DEFAULT_MAX_DUMP_BYTES,
  describePrefix,
  findActive,
  mergeWarming,
  parseSecretsDump,
  type ParsedSecret,
  type ParsedSecrets,
  type ParseSecretsOptions,
  type TrustBundle,
  type TrustBundleShape,
} from './envoy-secrets.js';
export { chainVerifiesAgainst, describeLeaf, parseCertificates, spiffeIdOf, splitPemCertificates, type LeafDescription } from './certificate.js';
export {
  classifySecrets,
  identityMatches,
  inferSource,
  podWorkloadCertsBesideSocket,
  ROOT_CA_SECRET_NAME,
  SPIFFE_CSI_DRIVER,
  unreachableVerdict,
  WORKLOAD_SECRET_NAME,
  type ClassifyContext,
  type PodIdentityContext,
  type PodVolumesSpec,
} from './classify.js';
export { compareByWorst, summarize, worstState } from './summary.js';
export { formatDuration, renderColumns, renderSummaryLine, renderSweepTable, renderVerdictTable, SWEEP_COLUMNS } from './render.js';
export {
  colonSerial,
  DEFAULT_RENEWAL_POLICY,
  expectedRenewalMs,
  HISTORY_FORMAT,
  HISTORY_FORMAT_VERSION,
  HistoryFormatError,
  indexSnapshot,
  judgeRotation,
  nextSnapshot,
  observationOf,
  parseHistorySnapshot,
  previousOf,
  pushInstantMs,
  summarizeRotations,
  type HistoryContext,
  type HistorySnapshot,
  type PodObservation,
  type RenewalPolicy,
} from './history.js';
