/**
 * Lists pods page by page (limit + continue) and keeps only what the sweep needs from each:
 * Running pods with an `istio-proxy` container (regular or native sidecar) become sampling
 * targets; injected pods that are not Running are counted as skipped; everything else is ignored.
 */
import type { V1OwnerReference } from '@kubernetes/client-node';
import { podHasSpiffeSocket, podWorkloadCertsBesideSocket } from '../core/judgement/classify.js';
import { KubeApiError } from '../core/model/errors.js';
import type { OwnerRef, PodListing } from '../core/model/pods.js';
import type { WirePod, WirePodList } from './kube-api.js';
import type { KubeClient } from './kube-client.js';

export type { OwnerRef, PodListing, PodTarget } from '../core/model/pods.js';

export const SIDECAR_CONTAINER = 'istio-proxy';

export interface ListOptions {
  /** Namespaces to list; empty or undefined = all namespaces. */
  readonly namespaces?: readonly string[];
  /** Namespaces whose pods are dropped before sampling (neither sampled nor counted as skipped); wins over `namespaces`. */
  readonly excludeNamespaces?: readonly string[];
  readonly pageSize?: number;
  /** How many times a list may start over after its continue token expired (410). */
  readonly maxRestarts?: number;
  /** Kubernetes label selector (`app=web,tier!=db`), applied by the API server to each list. */
  readonly labelSelector?: string;
  /** Called for each page received, before its pods are yielded (progress, ETA). */
  readonly onPage?: (page: ListedPage) => void;
}

export interface ListedPage {
  /** Pods in this page (all, injected or not). */
  readonly items: number;
  /** Of those, Running injected pods not seen before: what will be sampled. */
  readonly targets: number;
  /**
   * Pods the API server says are left after this page in this list, or null when it does not
   * say (it only counts unfiltered lists) or this was the last page (then 0).
   */
  readonly remainingItemCount: number | null;
}

export const DEFAULT_PAGE_SIZE = 500;

export function hasSidecar(pod: WirePod): boolean {
  const spec = pod.spec;
  if (!spec) return false;
  return (
    spec.containers.some((c) => c.name === SIDECAR_CONTAINER) ||
    (spec.initContainers ?? []).some((c) => c.name === SIDECAR_CONTAINER)
  );
}

export function toListing(pod: WirePod): PodListing | undefined {
  if (!hasSidecar(pod)) return undefined;
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const phase = pod.status?.phase ?? 'Unknown';
  if (phase !== 'Running') return { kind: 'skipped', namespace, name, reason: `phase ${phase}` };
  if (pod.metadata?.deletionTimestamp) return { kind: 'skipped', namespace, name, reason: 'terminating' };
  return {
    kind: 'target',
    target: {
      namespace,
      name,
      uid: pod.metadata?.uid ?? '',
      serviceAccount: pod.spec?.serviceAccountName ?? 'default',
      node: pod.spec?.nodeName ?? '',
      container: SIDECAR_CONTAINER,
      ownerReferences: (pod.metadata?.ownerReferences ?? []).map(toOwnerRef),
      workloadCertsBesideSocket: podWorkloadCertsBesideSocket(pod.spec ?? {}),
      spiffeSocket: podHasSpiffeSocket(pod.spec ?? {}),
    },
  };
}

function toOwnerRef(ref: V1OwnerReference): OwnerRef {
  return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, controller: ref.controller === true };
}

/**
 * Yields listings in API order. The next page is requested while the current one is being
 * consumed, so samplers do not stall at page boundaries. A 410 (continue token expired)
 * restarts that namespace's list from the beginning; pods already yielded are not repeated.
 */
export async function* listPods(client: KubeClient, options: ListOptions = {}): AsyncGenerator<PodListing> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const maxRestarts = options.maxRestarts ?? 3;
  const excluded = new Set(options.excludeNamespaces ?? []);
  const scopes: (string | undefined)[] =
    options.namespaces && options.namespaces.length > 0 ? [...new Set(options.namespaces)].filter((ns) => !excluded.has(ns)) : [undefined];
  const seen = new Set<string>();
  for (const namespace of scopes) {
    let restarts = 0;
    const fetch = (token: string | undefined) => fetchPage(client, namespace, pageSize, token, options.labelSelector);
    let pending: Promise<WirePodList> | undefined = fetch(undefined);
    while (pending) {
      let page: WirePodList | undefined;
      try {
        page = await pending;
      } catch (error) {
        if (error instanceof KubeApiError && error.statusCode === 410 && restarts < maxRestarts) {
          restarts++;
          pending = fetch(undefined);
          continue;
        }
        throw error;
      }
      const token: string | undefined = page.metadata?.continue;
      pending = token ? fetch(token) : undefined;
      // Avoid an unhandled rejection while the consumer is still busy with this page.
      pending?.catch(() => undefined);
      const listings = pageListings(page, excluded, seen);
      options.onPage?.({
        items: page.items.length,
        targets: listings.filter((listing) => listing.kind === 'target').length,
        remainingItemCount: token ? (page.metadata?.remainingItemCount ?? null) : 0,
      });
      // While this page's pods are sampled only the small listings are needed, not the page
      // (~2 MB parsed for 500 small pods, several times that for real ones) this generator would
      // otherwise keep alive beside the next page, already on its way.
      page = undefined;
      yield* listings;
    }
  }
}

/** The listings of one page's pods that are not excluded or seen before (`seen` gains their uids). */
function pageListings(page: WirePodList, excluded: ReadonlySet<string>, seen: Set<string>): PodListing[] {
  const listings: PodListing[] = [];
  for (const pod of page.items) {
    if (excluded.has(pod.metadata?.namespace ?? '')) continue;
    const uid = pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (seen.has(uid)) continue;
    seen.add(uid);
    const listing = toListing(pod);
    if (listing) listings.push(listing);
  }
  return listings;
}

function fetchPage(client: KubeClient, namespace: string | undefined, limit: number, token: string | undefined, labelSelector: string | undefined): Promise<WirePodList> {
  const scope = namespace ? `namespace ${namespace}` : 'all namespaces';
  const query = { limit, ...(token ? { _continue: token } : {}), ...(labelSelector ? { labelSelector } : {}) };
  return client.call(`list pods in ${scope}${labelSelector ? ` with labels ${labelSelector}` : ''}`, () =>
    namespace ? client.podLists.listNamespacedPod({ namespace, ...query }) : client.podLists.listPodForAllNamespaces(query),
  );
}
