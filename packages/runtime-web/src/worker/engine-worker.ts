import { handleWorkerMessages } from './handler.ts';
import type { MessageEndpoint } from './protocol.ts';

export type { WorkerHandlerOptions } from './handler.ts';
export { handleWorkerMessages } from './handler.ts';

/*
 * The worker entry. A worker module that imports it (`import '@shortv/runtime-web/worker'`) serves the
 * protocol on `self`; imported anywhere else (a page, Node) it only exports handleWorkerMessages.
 */
const scope = globalThis as { WorkerGlobalScope?: abstract new () => unknown };
if (typeof scope.WorkerGlobalScope === 'function' && globalThis instanceof scope.WorkerGlobalScope) {
  handleWorkerMessages(globalThis as unknown as MessageEndpoint);
}
