/**
 * What client-node uses of undici (fetch, Agent, ProxyAgent), without the rest of undici's
 * index (mock agents, caches, WebSocket, EventSource, H2C, interceptors: ~360 KB minified).
 * Bundles map the `undici` import to this file (lib/bundling/esbuild-options.ts); nothing
 * imports it at run time. Mirrors undici's index.js for these three exports: the dispatcher
 * API methods on Dispatcher.prototype (ProxyAgent tunnels with `connect`) and fetch's
 * stack-trace capture.
 */
import Dispatcher from '../../node_modules/undici/lib/dispatcher/dispatcher.js';
import api from '../../node_modules/undici/lib/api/index.js';
import fetchModule from '../../node_modules/undici/lib/web/fetch/index.js';
import Agent from '../../node_modules/undici/lib/dispatcher/agent.js';
import ProxyAgent from '../../node_modules/undici/lib/dispatcher/proxy-agent.js';

Object.assign(Dispatcher.prototype, api);

export { Agent, ProxyAgent };

export function fetch(input, init = undefined) {
  return fetchModule.fetch(input, init).catch((error) => {
    if (error && typeof error === 'object') Error.captureStackTrace(error, fetch);
    throw error;
  });
}
