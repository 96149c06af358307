import { describe, expect, it } from '@jest/globals';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { applyMeshCertWatchRbac } from '../../lib/constructs/cluster-rbac.js';
import { rbacObjects } from '../../src/rbac/rbac.js';
import { cdkJsonFeatureFlags, resourcesOfType } from './support/synth.js';

const KUBECTL_ROLE_ARN = 'arn:aws:iam::123456789012:role/kubectl';

/** A user's stack with an imported cluster and kubectl provider (no kubectl layer package needed). */
function synthesizeRbac(deleteBarePods?: boolean): Template {
  const app = new App({ context: { ...cdkJsonFeatureFlags(), 'aws:cdk:bundling-stacks': [] }, autoSynth: false });
  const stack = new Stack(app, 'UserClusterStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const kubectlProvider = eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'KubectlProvider', {
    functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:kubectl-provider',
    kubectlRoleArn: KUBECTL_ROLE_ARN,
    handlerRole: iam.Role.fromRoleArn(stack, 'KubectlHandlerRole', 'arn:aws:iam::123456789012:role/kubectl-handler'),
  });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod-eu-1', kubectlRoleArn: KUBECTL_ROLE_ARN, kubectlProvider });
  applyMeshCertWatchRbac(stack, 'MeshCertWatchRbac', deleteBarePods === undefined ? { cluster } : { cluster, deleteBarePods });
  return Template.fromStack(stack);
}

interface AppliedObject {
  kind: string;
  metadata: { labels: Record<string, string> };
  rules?: Array<{ resources: string[]; verbs: string[] }>;
}

/** Verbs the applied remediator ClusterRole grants on pods. */
const remediatorPodVerbs = (manifest: AppliedObject[]) =>
  manifest
    .find((object) => object.kind === 'ClusterRole' && object.metadata.labels['app.kubernetes.io/component'] === 'remediator')
    ?.rules?.find((rule) => rule.resources.includes('pods'))?.verbs;

/** The one KubernetesResource's properties, with `Manifest` parsed and the prune labels CDK injects removed. */
function appliedResource(template: Template) {
  const resources = Object.values(resourcesOfType(template, 'Custom::AWSCDK-EKS-KubernetesResource'));
  expect(resources).toHaveLength(1);
  const properties = resources[0]!.Properties;
  const manifest = JSON.parse(properties.Manifest as string) as AppliedObject[];
  expect(manifest.every((object) => Object.keys(object.metadata.labels).some((label) => label.startsWith('aws.cdk.eks/prune-')))).toBe(true);
  for (const object of manifest) {
    for (const label of Object.keys(object.metadata.labels)) if (label.startsWith('aws.cdk.eks/prune-')) delete object.metadata.labels[label];
  }
  return { properties, manifest };
}

describe('applyMeshCertWatchRbac', () => {
  it('applies exactly the manifests of rbacObjects() to the cluster, overwriting', () => {
    const { properties, manifest } = appliedResource(synthesizeRbac());
    expect(manifest).toEqual(rbacObjects());
    expect(properties).toMatchObject({ ClusterName: 'prod-eu-1', RoleArn: KUBECTL_ROLE_ARN, Overwrite: true });
    expect(remediatorPodVerbs(manifest)).toEqual(['get']);
  });

  it('deleteBarePods: true adds the remediator pods delete rule, as rbacObjects({ deleteBarePods: true })', () => {
    const { manifest } = appliedResource(synthesizeRbac(true));
    expect(manifest).toEqual(rbacObjects({ deleteBarePods: true }));
    expect(remediatorPodVerbs(manifest)).toEqual(['get', 'delete']);
    expect(appliedResource(synthesizeRbac(false)).manifest).toEqual(rbacObjects());
  });
});
