/** Network helpers shared by the test tiers. */
import { createServer } from 'node:net';

/** A loopback port nothing listens on (just released): for a server to start on, or a dead endpoint. */
export async function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
