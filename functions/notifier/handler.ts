// PLACEHOLDER: created by the CDK app so the stack can synthesize and bundle before the real
// handler lands. Replace this file; the stack wires `handler` and MESH_CERT_WATCH_CONFIG.
export const handler = async (): Promise<never> => {
  throw new Error('not implemented yet');
};
