// worker.mjs: the dedicated worker entry (a module Web Worker in browsers, a worker_threads Worker
// in Node). It serves the protocol of protocol.mjs with the handlers of service.mjs; the API in
// index.mjs starts it. Nothing here runs on import in other contexts.

import { serve } from './protocol.mjs';
import { createService } from './service.mjs';

const isNode = typeof process === 'object' && !!process.versions && !!process.versions.node;

if (!isNode && typeof self === 'object' && typeof self.postMessage === 'function') {
  // Browser worker: attach the listener synchronously so no early message is missed.
  const listeners = [];
  self.addEventListener('message', (event) => { for (const cb of listeners) cb(event.data); });
  serve({
    postMessage: (msg, transfer) => self.postMessage(msg, transfer),
    onMessage: (cb) => listeners.push(cb),
    taskPerMessage: true,
  }, createService());
} else if (isNode) {
  const { parentPort, isMainThread } = await import('node:worker_threads');
  if (!isMainThread && parentPort) {
    // Messages posted before this listener exists wait in the port's queue.
    serve({
      postMessage: (msg, transfer) => parentPort.postMessage(msg, transfer),
      onMessage: (cb) => parentPort.on('message', cb),
      taskPerMessage: true,
    }, createService());
  }
}
