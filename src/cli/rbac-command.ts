/** `mesh-cert-watch rbac`: the sampler's and the remediator's ClusterRoles and bindings as YAML. */
import type { ParseArgsConfig } from 'node:util';
import { DEFAULT_TBOT_AGENTS, NAMESPACE_PATTERN } from '../core/judgement/agents.js';
import { UsageError } from '../core/model/errors.js';
import { rbacYaml } from '../rbac/rbac.js';
import { parseCommandArgs } from './input.js';
import { EXIT, type CliIo } from './io.js';

export const RBAC_HELP = `Usage: mesh-cert-watch rbac [options]

Prints the ClusterRoles and ClusterRoleBindings of the sampler (read pods, exec into
istio-proxy) and the remediator (read pods and owners, patch controllers), bound to the
Kubernetes groups the EKS access entries map the Lambda roles to, and the fence that RBAC
cannot express (ValidatingAdmissionPolicies, Kubernetes >= 1.30): the sampler may exec only
its own read commands in istio-proxy (no stdin, no tty), the remediator may change only the
restart annotation (Rollouts: spec.restartAt). Apply with
  mesh-cert-watch rbac | kubectl apply -f -

The remediator also gets a Role (not a ClusterRole) in the tbot namespace: list and delete
the tbot agent pods there, get their DaemonSet (node-aware remediation restarts a node's
tbot agent instead of the applications' workloads).

Options:
  --delete-bare-pods       also let the remediator delete pods (only for deployments that
                           set remediation.deleteBarePods)
  --tbot-namespace NS      namespace of the tbot agents; repeat for several
                                                      [default ${DEFAULT_TBOT_AGENTS.namespace}]
  --no-fence               leave the admission policies out (API servers before 1.30,
                           which reject their kinds)
`;

const RBAC_OPTIONS = {
  'delete-bare-pods': { type: 'boolean' },
  'tbot-namespace': { type: 'string', multiple: true },
  'no-fence': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export function rbacCommand(args: readonly string[], io: CliIo): number {
  const { values } = parseCommandArgs(args, RBAC_OPTIONS, false);
  if (values.help) {
    io.stdout(RBAC_HELP);
    return EXIT.ok;
  }
  const tbotNamespaces = values['tbot-namespace'] ?? [DEFAULT_TBOT_AGENTS.namespace];
  for (const namespace of tbotNamespaces) {
    if (!NAMESPACE_PATTERN.test(namespace)) throw new UsageError('--tbot-namespace', `not a namespace name: "${namespace}"`);
  }
  io.stdout(rbacYaml({ deleteBarePods: values['delete-bare-pods'] === true, tbotNamespaces, fence: values['no-fence'] !== true }));
  return EXIT.ok;
}
