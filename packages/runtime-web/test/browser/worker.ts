// The worker module of the browser test page: importing the entry makes it serve the protocol.
import '../../src/worker/engine-worker.ts';
