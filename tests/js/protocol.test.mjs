// protocol.test.mjs: request ids, structured errors, survival after errors/exceptions/traps,
// cancellation of queued work and dispose, through serve()/Client directly and through the public
// API with the fake engine (in-process and in a worker_threads Worker).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Client, createInlinePorts, serve } from '../../worker/protocol.mjs';
import { EdgebertError } from '../../worker/errors.mjs';
import { createRuntime, pipeline } from '../../worker/index.mjs';
import { fakePackedModel } from './fake_edgebert.mjs';
import { fakeInline, fakeWorker } from './helpers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function harness(handlers) {
  const [a, b] = createInlinePorts();
  serve(b, handlers);
  return new Client(a);
}

test('each reply goes to the request with its id, whatever order they finish in', async () => {
  const client = harness({
    async run(msg) { await sleep(msg.delay); return { result: msg.value }; },
  });
  const out = await Promise.all([30, 0, 10, 0].map((delay, i) => client.request('run', { delay, value: `v${i}` })));
  assert.deepEqual(out, ['v0', 'v1', 'v2', 'v3']);
});

test('requests run one at a time, in arrival order', async () => {
  const log = [];
  const client = harness({
    async run(msg) { log.push(`start ${msg.n}`); await sleep(5); log.push(`end ${msg.n}`); return { result: msg.n }; },
  });
  await Promise.all([1, 2, 3].map((n) => client.request('run', { n })));
  assert.deepEqual(log, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
});

test('errors are structured {code, message}; a throwing handler does not stop the server', async () => {
  const client = harness({
    async bad() { throw new EdgebertError('CorruptData', 'model.ebm: bad magic'); },
    async buggy() { null.x; },  // eslint-disable-line no-unused-expressions
    async ok() { return { result: 'fine' }; },
  });
  await assert.rejects(client.request('bad'), (e) => e instanceof EdgebertError && e.code === 'CorruptData' && e.message === 'model.ebm: bad magic');
  await assert.rejects(client.request('buggy'), (e) => e.code === 'Internal' && /unexpected TypeError/.test(e.message));
  await assert.rejects(client.request('nope'), (e) => e.code === 'InvalidArgument' && /unknown request type "nope"/.test(e.message));
  assert.equal(await client.request('ok'), 'fine');
});

test('a cancelled queued request is dropped by the server with Cancelled; a running run is abandoned at once and finishes unseen', async () => {
  const ran = [];
  const client = harness({
    async run(msg) { ran.push(msg.n); await sleep(msg.ms || 0); return { result: msg.n }; },
  });
  const a = new AbortController();
  const b = new AbortController();
  const pa = client.request('run', { n: 'A', ms: 60 }, { signal: a.signal });
  const pb = client.request('run', { n: 'B' }, { signal: b.signal });
  const pc = client.request('run', { n: 'C' });
  await sleep(20);  // A is running now, B and C are queued
  a.abort();        // A cannot be interrupted: its caller is let go at once, A ends unseen
  b.abort();
  await assert.rejects(pb, (e) => e.code === 'Cancelled' && /before it started/.test(e.message));
  await assert.rejects(pa, (e) => e.code === 'Cancelled' && /abandoned while running/.test(e.message));
  assert.equal(await pc, 'C');
  assert.deepEqual(ran, ['A', 'C'], 'B must never run');
});

// Two ports that deliver each message in a task of its own (setImmediate), as a Worker's do.
function taskPorts() {
  const ends = [{ listener: null }, { listener: null }];
  const port = (me, peer) => ({
    taskPerMessage: true,
    sent: [],
    postMessage(msg) {
      this.sent.push(msg);
      setImmediate(() => { if (peer.listener) peer.listener(msg); });
    },
    onMessage(cb) { me.listener = cb; },
  });
  return [port(ends[0], ends[1]), port(ends[1], ends[0])];
}

test('only a request sent with an AbortSignal is announced with started; results are the same either way', async () => {
  for (const [a, b] of [createInlinePorts(), taskPorts()]) {
    const sent = [];
    const post = b.postMessage.bind(b);
    b.postMessage = (msg, transfer) => { sent.push(msg.type); post(msg, transfer); };
    serve(b, { async run(msg) { return { result: msg.n * 2 }; } });
    const client = new Client(a);
    assert.equal(await client.request('run', { n: 1 }), 2);
    assert.deepEqual(sent, ['result']);
    sent.length = 0;
    assert.equal(await client.request('run', { n: 2 }, { signal: new AbortController().signal }), 4);
    assert.deepEqual(sent, ['started', 'result']);
  }
});

test('a task-per-message port: an idle lane starts a request without a signal in the task that delivered it; a request with one still yields first', async () => {
  const [a, b] = taskPorts();
  // Whether the handler started inside the delivering task (synchronously in the port's listener).
  let delivering = false;
  const onMessage = b.onMessage.bind(b);
  b.onMessage = (cb) => onMessage((msg) => { delivering = true; try { cb(msg); } finally { delivering = false; } });
  const ran = [];
  serve(b, { async run(msg) { ran.push([msg.n, delivering]); return { result: msg.n }; } });
  const client = new Client(a);
  assert.equal(await client.request('run', { n: 1 }), 1);
  // With a signal the server yields before the job, so a cancel sent right behind it drops it.
  const ac = new AbortController();
  const p2 = client.request('run', { n: 2 }, { signal: ac.signal });
  ac.abort();
  await assert.rejects(p2, (e) => e.code === 'Cancelled' && /before it started/.test(e.message));
  assert.equal(await client.request('run', { n: 3 }, { signal: new AbortController().signal }), 3);
  assert.deepEqual(ran, [[1, true], [3, false]], 'request 2 must never run; 3 starts after a yield');
});

test('a task-per-message port: a request queued behind a running one is still cancelled before it starts', async () => {
  const [a, b] = taskPorts();
  const ran = [];
  serve(b, {
    async run(msg) { ran.push(msg.n); await sleep(msg.ms || 0); return { result: msg.n }; },
  });
  const client = new Client(a);
  const ac = new AbortController();
  const pa = client.request('run', { n: 'A', ms: 40 });
  const pb = client.request('run', { n: 'B' }, { signal: ac.signal });
  const pc = client.request('run', { n: 'C' });
  await sleep(10);
  ac.abort();
  await assert.rejects(pb, (e) => e.code === 'Cancelled' && /before it started/.test(e.message));
  assert.equal(await pa, 'A');
  assert.equal(await pc, 'C');
  assert.deepEqual(ran, ['A', 'C'], 'B must never run');
});

test('a download (cooperative handler) sees the abort of the running request', async () => {
  const client = harness({
    async load(msg, ctx) {
      while (!ctx.signal.aborted) await sleep(2);
      throw new EdgebertError('Cancelled', 'download of model.safetensors was cancelled');
    },
  });
  const ac = new AbortController();
  const p = client.request('load', {}, { signal: ac.signal });
  await sleep(15);
  ac.abort();
  await assert.rejects(p, (e) => e.code === 'Cancelled');
});

test('an already aborted signal rejects at once without sending anything', async () => {
  let calls = 0;
  const client = harness({ async run() { calls++; return { result: 1 }; } });
  await assert.rejects(client.request('run', {}, { signal: AbortSignal.abort() }), (e) => e.code === 'Cancelled');
  await sleep(5);
  assert.equal(calls, 0);
});

test('progress messages reach the caller of their request only', async () => {
  const client = harness({
    async load(msg, ctx) { for (let i = 1; i <= 3; i++) ctx.progress({ n: msg.n, i }); return { result: null }; },
  });
  const seen1 = [];
  const seen2 = [];
  await Promise.all([
    client.request('load', { n: 1 }, { onProgress: (p) => seen1.push(p) }),
    client.request('load', { n: 2 }, { onProgress: (p) => seen2.push(p) }),
  ]);
  assert.deepEqual(seen1.map((p) => p.n), [1, 1, 1]);
  assert.deepEqual(seen2.map((p) => p.n), [2, 2, 2]);
});

for (const [device, opts] of [['inline', fakeInline], ['worker_threads', fakeWorker]]) {
  test(`${device}: errors, a thrown exception and a wasm trap leave the runtime serving`, async () => {
    const runtime = await createRuntime(opts());
    const clf = await pipeline('text-classification', fakePackedModel(), { runtime });
    const other = await pipeline('text-classification', fakePackedModel(), { runtime });
    try {
      await assert.rejects(clf('__fail__'), (e) => e.code === 'InvalidArgument' && /refused/.test(e.message));
      assert.equal((await clf('ok'))[0].request.text, 'ok');
      await assert.rejects(clf('__throw__'), (e) => e.code === 'Internal' && /fake handler bug/.test(e.message));
      assert.equal((await clf('still ok'))[0].request.text, 'still ok');
      await assert.rejects(clf('__trap__'), (e) => e.code === 'WasmTrap' && /unreachable/.test(e.message) && /restarted/.test(e.message));
      // A fresh engine runs both models again (reloaded from the bytes kept), under the same handles.
      assert.equal((await clf('after trap'))[0].request.text, 'after trap');
      assert.equal((await other('fine'))[0].request.text, 'fine');
    } finally {
      await clf.dispose();
      await other.dispose();
      await runtime.close();
    }
  });

  test(`${device}: aborting queued runs rejects them with Cancelled and they never reach the engine`, async () => {
    const clf = await pipeline('text-classification', fakePackedModel(), opts());
    try {
      const before = (await clf('__stats__')).runs;
      const ac = new AbortController();
      const t0 = Date.now();
      const slow = clf('__sleep:300__');               // blocks the engine's thread for 300 ms
      const queued = clf('queued', { signal: ac.signal });
      const after = clf('after');
      await sleep(30);
      ac.abort();
      await assert.rejects(queued, (e) => e.code === 'Cancelled');
      // In a worker it is rejected at once (it had not started), not after the 300 ms run; inline,
      // the caller's own thread is the one blocked, so nothing can happen before the run ends.
      if (device !== 'inline') assert.ok(Date.now() - t0 < 250, `Cancelled came after ${Date.now() - t0} ms`);
      assert.equal((await slow)[0].request.text, '__sleep:300__');
      assert.equal((await after)[0].request.text, 'after');
      const stats = await clf('__stats__');
      // stats, slow, after, stats: 'queued' never ran.
      assert.equal(stats.runs - before, 3);
    } finally {
      await clf.dispose();
    }
  });

  test(`${device}: dispose frees the model's memory for the next model; later calls fail with Disposed`, async () => {
    const runtime = await createRuntime(opts());
    try {
      const big = await pipeline('text-classification', fakePackedModel({ padding: 'x'.repeat(100000) }), { runtime });
      const withBig = await big('__stats__');
      await big.dispose();
      await assert.rejects(big('x'), (e) => e.code === 'Disposed');
      await big.dispose();  // twice is harmless
      const small = await pipeline('text-classification', fakePackedModel(), { runtime });
      const withSmall = await small('__stats__');
      assert.ok(withBig.live_bytes - withSmall.live_bytes >= 100000,
        `dispose did not free the model bytes: ${withBig.live_bytes} -> ${withSmall.live_bytes}`);
      await small.dispose();
    } finally {
      await runtime.close();
    }
  });
}

test('worker_threads: a worker that dies fails its pending requests with WorkerError; a new runtime works', async () => {
  const clf = await pipeline('text-classification', fakePackedModel(), fakeWorker());
  const crash = clf('__exit__');
  const pending = clf('queued behind the crash');
  await assert.rejects(crash, (e) => e.code === 'WorkerError' && /exited \(code 3\)/.test(e.message));
  await assert.rejects(pending, (e) => e.code === 'WorkerError');
  await assert.rejects(clf('after'), (e) => e.code === 'WorkerError');
  await clf.dispose();  // harmless on a dead runtime
  const again = await pipeline('text-classification', fakePackedModel(), fakeWorker());
  assert.equal((await again('alive'))[0].request.text, 'alive');
  await again.dispose();
});

test('options are checked before anything is sent, with the allowed values listed', async () => {
  const clf = await pipeline('text-classification', fakePackedModel(), fakeInline());
  try {
    // transformers.js's snake_case names are aliases of the camelCase ones; other names are errors.
    assert.equal((await clf('x', { top_k: 2 }))[0].request.top_k, 2);
    await assert.rejects(clf('x', { top_k: 2, topK: 0 }), (e) => e.code === 'InvalidArgument' && /topK/.test(e.message));
    await assert.rejects(clf('x', { max_answer_len: 3 }), (e) => e.code === 'InvalidArgument' && /maxAnswerLen/.test(e.message));
    await assert.rejects(clf('x', { functionToApply: 'relu' }), (e) => /"default", "sigmoid", "softmax", "none"/.test(e.message));
    await assert.rejects(clf(42), (e) => e.code === 'InvalidArgument' && /text must be a string/.test(e.message));
  } finally {
    await clf.dispose();
  }
  await assert.rejects(pipeline('summarization', fakePackedModel(), fakeInline()), (e) => e.code === 'InvalidArgument' && /unsupported task "summarization"/.test(e.message));
  await assert.rejects(pipeline('ner', fakePackedModel(), fakeInline()), (e) => e.code === 'Unsupported' && /cannot do token-classification/.test(e.message));
});
