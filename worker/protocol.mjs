// protocol.mjs: the message protocol between the API (client) and the worker (server), the same
// whether the server runs in a Web Worker, a Node worker_threads Worker or in-process ('inline').
//
// client -> server   { id, type: 'init'|'load'|'run'|'dispose'|'info', abortable?, ...payload }
//                    { type: 'cancel', id }                    (no reply of its own)
// server -> client   { id, type: 'started' }                   (the request left the queue; abortable ones only)
//                    { id, type: 'progress', progress }        (loads only)
//                    { id, type: 'result', result }            (buffers in result are transferred)
//                    { id, type: 'error', error: { code, message, details? } }
//
// Requests run in lanes: one at a time and in arrival order within a lane, lanes side by side. The
// handlers say which lane a request takes (handlers[LANE_OF]; service.mjs: one per model, one per
// load), so a slow download does not hold up requests to other models; without LANE_OF there is
// one lane. Engine calls are synchronous, so the engine still runs one call at a time.
// A cancel for a queued request drops it with a Cancelled error; a cancel for a running request
// aborts its AbortSignal, which downloads honour; an engine call cannot be interrupted: the caller's
// promise rejects at once (Client) and the server drops the result when the call ends.
// Only a request sent with an AbortSignal can be cancelled: the Client marks it `abortable`, and
// only such a request is announced with 'started' (the Client needs it to tell a queued request
// from a running one); the others cost one message each way.

import { EdgebertError, serializeError, deserializeError, cancelledError } from './errors.mjs';

export const REQUEST_TYPES = Object.freeze(['init', 'load', 'run', 'dispose', 'info']);

/** handlers[LANE_OF](msg) -> the lane's name (a Symbol: no message type can reach it). */
export const LANE_OF = Symbol('edgebert.laneOf');

// Before each job the server lets pending messages in (a cancel sent while the previous job was
// blocking the thread must be seen before the next job starts). Not before a request that cannot
// be cancelled and starts in the very task that delivered it, on a port that delivers each message
// as a task of its own (a Worker's, `port.taskPerMessage`): every message sent before it has been
// seen, nothing has blocked the thread since, and no cancel can follow it; this saves a task hop
// (~0.05 ms in Chromium) on a call made while the engine is idle. setImmediate runs after Node's
// poll phase, where port messages are delivered. Elsewhere a message through a fresh MessageChannel
// (closed once it arrives, so nothing keeps a runtime alive): a task, like a timer, but browsers
// clamp a timer set from within timer tasks nested 5 deep to 4 ms, which a loop of
// `await pipe(text)` on the inline device reached on every call. A timer where neither exists.
const yieldToInbox = typeof setImmediate === 'function'
  ? () => new Promise((resolve) => setImmediate(resolve))
  : typeof MessageChannel === 'function'
    ? () => new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
      channel.port2.close();
    })
    : () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Serves requests arriving on `port` with `handlers[type](message, ctx)`.
 * A handler returns `{ result, transfer? }` or throws; ctx = { signal, progress(p) }.
 * @param {{postMessage(msg: object, transfer?: Transferable[]): void, onMessage(cb: (msg: object) => void): void,
 *   taskPerMessage?: boolean}} port taskPerMessage: each message arrives in a task of its own (a
 *   Worker's port, not the inline device's microtask port)
 * @param {Record<string, Function>} handlers
 */
export function serve(port, handlers) {
  const lanes = new Map();    // lane -> { queue: messages waiting, in arrival order, pumping }
  const running = new Map();  // id -> AbortController of a request that left its queue
  const laneOf = typeof handlers[LANE_OF] === 'function' ? handlers[LANE_OF] : () => 'main';

  const send = (msg, transfer) => {
    try {
      port.postMessage(msg, transfer || []);
    } catch (err) {
      // A result that cannot be cloned is a bug in a handler: report it instead of losing the reply.
      port.postMessage({ id: msg.id, type: 'error', error: serializeError(err) });
    }
  };

  port.onMessage((msg) => {
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'cancel') {
      for (const lane of lanes.values()) {
        const i = lane.queue.findIndex((m) => m.id === msg.id);
        if (i >= 0) {
          const [dropped] = lane.queue.splice(i, 1);
          send({ id: dropped.id, type: 'error', error: serializeError(cancelledError(`request ${dropped.id} (${dropped.type})`)) });
          return;
        }
      }
      if (running.has(msg.id)) running.get(msg.id).abort();
      return;
    }
    let name;
    try {
      name = String(laneOf(msg));
    } catch {
      name = 'main';
    }
    if (!lanes.has(name)) lanes.set(name, { queue: [], pumping: false });
    const lane = lanes.get(name);
    lane.queue.push(msg);
    pump(name, lane, port.taskPerMessage === true && !msg.abortable);
  });

  // fresh: the lane's first job may start in this task without yielding (see yieldToInbox).
  async function pump(name, lane, fresh) {
    if (lane.pumping) return;
    lane.pumping = true;
    try {
      let first = fresh && lane.queue.length === 1;
      while (lane.queue.length > 0) {
        if (!first) await yieldToInbox();
        first = false;
        const msg = lane.queue.shift();
        if (!msg) continue;  // cancelled while we yielded
        await runOne(msg);
      }
    } finally {
      lane.pumping = false;
      if (lane.queue.length === 0) lanes.delete(name);
    }
  }

  async function runOne(msg) {
    const controller = new AbortController();
    running.set(msg.id, controller);
    if (msg.abortable) send({ id: msg.id, type: 'started' });
    try {
      const handler = Object.prototype.hasOwnProperty.call(handlers, msg.type) ? handlers[msg.type] : null;
      if (!handler) {
        throw new EdgebertError('InvalidArgument',
          `unknown request type ${JSON.stringify(msg.type)}; expected one of ${REQUEST_TYPES.join(', ')}`);
      }
      const ctx = {
        signal: controller.signal,
        progress: (progress) => send({ id: msg.id, type: 'progress', progress }),
      };
      const out = (await handler(msg, ctx)) || {};
      send({ id: msg.id, type: 'result', result: out.result === undefined ? null : out.result }, out.transfer);
    } catch (err) {
      send({ id: msg.id, type: 'error', error: serializeError(err) });
    } finally {
      running.delete(msg.id);
    }
  }
}

/** An AbortSignal, also from another realm (duck-typed: aborted + addEventListener). */
function isAbortSignal(s) {
  return !!s && typeof s === 'object' && typeof s.aborted === 'boolean' &&
    typeof s.addEventListener === 'function' && typeof s.removeEventListener === 'function';
}

/**
 * The caller's side: numbered requests, promises, progress callbacks and AbortSignals.
 * An aborted request that has not started rejects at once with Cancelled (the server drops it from
 * its queue). Once started the abort is forwarded: a run rejects at once (its result is dropped
 * when the engine call ends), a load stops its download and the server answers Cancelled.
 */
export class Client {
  /**
   * @param {{postMessage(msg: object, transfer?: Transferable[]): void, onMessage(cb: Function): void}} port
   * @param {{onLateResult?: (type: string, result: any) => void}} [hooks] called with the result of
   *   a request that was cancelled on this side but ran anyway (e.g. to dispose a loaded model)
   */
  constructor(port, hooks = {}) {
    this.port = port;
    this.hooks = hooks;
    this.nextId = 1;
    // id -> { type, resolve, reject, onProgress, started, settled, cleanup }; an entry stays until the
    // server's final reply even when it was settled early (cancelled here before it started).
    this.pending = new Map();
    this.closedError = null;
    port.onMessage((msg) => this._onMessage(msg));
  }

  /** Sends a request; resolves with its result or rejects with an EdgebertError. */
  request(type, payload = {}, { signal, onProgress, transfer } = {}) {
    if (this.closedError) return Promise.reject(this.closedError);
    if (signal !== undefined && signal !== null && !isAbortSignal(signal)) {
      return Promise.reject(new EdgebertError('InvalidArgument',
        `signal must be an AbortSignal (new AbortController().signal), got ${signal === null ? 'null' : typeof signal === 'object' ? 'an object that is not one' : `${typeof signal} ${String(signal)}`}`));
    }
    if (signal && signal.aborted) return Promise.reject(cancelledError(type));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const entry = { type, resolve, reject, onProgress, started: false, settled: false, cleanup: null };
      if (signal) {
        const onAbort = () => {
          this.port.postMessage({ type: 'cancel', id });
          // A running engine call cannot be interrupted: its caller is let go now. A running load
          // stops its download and answers Cancelled itself, naming the file.
          if (entry.started && type !== 'run') return;
          this._settle(entry, null, entry.started
            ? new EdgebertError('Cancelled', `request ${id} (${type}) was abandoned while running (AbortSignal fired); its result will be dropped`)
            : cancelledError(`request ${id} (${type})`));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        entry.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending.set(id, entry);
      try {
        const msg = signal ? { ...payload, id, type, abortable: true } : { ...payload, id, type };
        this.port.postMessage(msg, transfer || []);
      } catch (err) {
        this.pending.delete(id);
        if (entry.cleanup) entry.cleanup();
        reject(new EdgebertError('InvalidArgument', `cannot send the ${type} request to the worker: ${err.message}`));
      }
    });
  }

  /** Rejects every pending request (the worker died or the runtime was closed). */
  close(error) {
    if (!this.closedError) this.closedError = error;  // the first reason stays (Disposed, then the worker's exit)
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) this._settle(entry, null, error);
  }

  get busy() {
    return this.pending.size > 0;
  }

  _settle(entry, result, error) {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.cleanup) entry.cleanup();
    if (error) entry.reject(error);
    else entry.resolve(result);
  }

  _finish(id) {
    this.pending.delete(id);
    if (this.hooks.onIdle && this.pending.size === 0) this.hooks.onIdle();
  }

  _onMessage(msg) {
    if (!msg || typeof msg !== 'object') return;
    const entry = this.pending.get(msg.id);
    if (!entry) return;
    switch (msg.type) {
      case 'started':
        entry.started = true;
        return;
      case 'progress':
        if (!entry.settled && entry.onProgress) {
          try { entry.onProgress(msg.progress); } catch { /* a throwing callback must not break the protocol */ }
        }
        return;
      case 'result':
        this._finish(msg.id);
        // Cancelled here before we learnt it had started, but the server ran it: release what it made.
        if (entry.settled) { if (this.hooks.onLateResult) this.hooks.onLateResult(entry.type, msg.result); }
        else this._settle(entry, msg.result, null);
        return;
      case 'error':
        this._finish(msg.id);
        this._settle(entry, null, deserializeError(msg.error));
        return;
      default:
        return;
    }
  }
}

/**
 * Two connected in-process ports for the 'inline' device: same protocol, same queue and
 * cancellation semantics, no cloning (objects are handed over as they are).
 */
export function createInlinePorts() {
  const make = () => ({ listener: null, peer: null });
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  const port = (end) => ({
    postMessage(msg) {
      queueMicrotask(() => { if (end.peer.listener) end.peer.listener(msg); });
    },
    onMessage(cb) {
      end.listener = cb;
    },
  });
  return [port(a), port(b)];
}
