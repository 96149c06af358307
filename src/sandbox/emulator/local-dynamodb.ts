/**
 * DynamoDB stand-in for tests and the demo: dynalite (a DynamoDB-compatible engine, in memory,
 * in this process) behind the real SDK and wire protocol, and the tables laid out like the
 * stack's (`pk`/`sk` strings). dynalite is a devDependency: load this module only from tests
 * and the demo.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { TABLE_KEYS } from '../../config/tables.js';

export interface LocalDynamo {
  readonly endpoint: string;
  /** A new client on the local engine (closed by `close()`). */
  client(): DynamoDBClient;
  createTable(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Creates a table with the stack's key layout (on-demand, `pk` + `sk`). */
export async function createStateTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
        { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
}

type Dynalite = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export async function startLocalDynamo(): Promise<LocalDynamo> {
  const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  const client = (): DynamoDBClient => {
    // dynalite accepts any credentials; fixed ones keep the SDK from searching the machine.
    const c = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'local-only' } });
    clients.push(c);
    return c;
  };
  const admin = client();
  return {
    endpoint,
    client,
    createTable: (name) => createStateTable(admin, name),
    close: async () => {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
