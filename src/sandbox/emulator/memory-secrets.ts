/**
 * Secrets Manager stand-in for the notifier's webhook resolver (`SecretsClient`): secret values
 * by id, in memory, with the read log; an unknown id answers like Secrets Manager does
 * (`ResourceNotFoundException`). Used by the notifier tests and the demo.
 */
import type { GetSecretValueCommand, GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import type { SecretsClient } from '../../aws/webhook-secrets.js';

export class MemorySecrets implements SecretsClient {
  readonly reads: string[] = [];
  constructor(readonly values: Record<string, string>) {}
  async send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput> {
    const id = command.input.SecretId ?? '';
    this.reads.push(id);
    const value = this.values[id];
    if (value === undefined) throw Object.assign(new Error(`Secrets Manager can't find the specified secret.`), { name: 'ResourceNotFoundException' });
    return { SecretString: value, $metadata: {} };
  }
}
