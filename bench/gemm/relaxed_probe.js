// relaxed_probe.js: what i32x4.relaxed_dot_i8x16_i7x16_add_s computes in this node, per V8 tier.
// Usage: node --experimental-wasm-relaxed-simd [--liftoff-only | --no-liftoff] relaxed_probe.js
// The module is written out by hand because emcc 3.1.6 (LLVM 14) cannot emit the instruction.
// It computes mem[32..48) = relaxed_dot(a = mem[0..16) as i8, b = mem[16..32) as i7, c = mem[48..64)).
'use strict';
const bytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // magic, version
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00,  // type: () -> ()
  0x03, 0x02, 0x01, 0x00,  // function 0 has type 0
  0x05, 0x03, 0x01, 0x00, 0x01,  // one memory, 1 page
  0x07, 0x0b, 0x02, 0x01, 0x66, 0x00, 0x00, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00,  // export f, mem
  0x0a, 0x1f, 0x01, 0x1d, 0x00,  // code: one body of 29 bytes, no locals
  0x41, 0x20,  // i32.const 32 (store address)
  0x41, 0x00, 0xfd, 0x00, 0x04, 0x00,  // v128.load a
  0x41, 0x10, 0xfd, 0x00, 0x04, 0x00,  // v128.load b
  0x41, 0x30, 0xfd, 0x00, 0x04, 0x00,  // v128.load c
  0xfd, 0x93, 0x02,  // i32x4.relaxed_dot_i8x16_i7x16_add_s (0xfd 0x113)
  0xfd, 0x0b, 0x04, 0x00,  // v128.store
  0x0b,
]);
let instance;
try {
  instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
} catch (e) {
  console.log(JSON.stringify({ supported: false, error: String(e) }));
  process.exit(0);
}
const mem = new Uint8Array(instance.exports.mem.buffer);
const i8 = new Int8Array(instance.exports.mem.buffer);
const i32 = new Int32Array(instance.exports.mem.buffer);

function run(a, b) {  // a: 16 int8, b: 16 uint8 bytes; c = 0
  for (let i = 0; i < 16; i++) { i8[i] = a[i]; mem[16 + i] = b[i]; mem[48 + i] = 0; }
  // Many calls so that default tiering reaches TurboFan; report the first and the last result.
  instance.exports.f();
  const first = Array.from(i32.subarray(8, 12));
  for (let i = 0; i < 200000; i++) instance.exports.f();
  return { first, last: Array.from(i32.subarray(8, 12)) };
}
function expected(a, b, signedB, saturate) {
  const out = [];
  for (let l = 0; l < 4; l++) {
    let s = 0;
    for (let p = 0; p < 2; p++) {
      let pair = 0;
      for (let q = 0; q < 2; q++) {
        const j = 4 * l + 2 * p + q;
        pair += a[j] * (signedB && b[j] > 127 ? b[j] - 256 : b[j]);
      }
      if (saturate) pair = Math.max(-32768, Math.min(32767, pair));
      s += pair;
    }
    out.push(s);
  }
  return out;
}
const cases = {
  // b in 0..127: the deterministic domain; every implementation must give the exact sums.
  i7_operand: [[127, -128, 5, -7, 100, -100, 1, 2, -1, -2, 3, 4, 64, -64, 127, 127],
               [127, 127, 3, 9, 126, 1, 0, 127, 50, 60, 70, 80, 127, 127, 127, 127]],
  // b >= 128 (our uint8 activations): pair sums up to 2 x 127 x 255 = 64770 overflow int16.
  u8_operand: [[127, 127, 127, 127, -128, -128, 100, 100, 1, 1, 1, 1, -5, 7, 9, -11],
               [255, 255, 255, 255, 255, 255, 200, 200, 255, 128, 129, 130, 250, 251, 252, 253]],
};
const report = { supported: true, node: process.version, flags: process.execArgv };
for (const [name, [a, b]] of Object.entries(cases)) {
  const r = run(a, b);
  report[name] = {
    first_call: r.first, after_200k_calls: r.last,
    exact_unsigned_b: expected(a, b, false, false), exact_signed_b: expected(a, b, true, false),
    pmaddubsw_saturating: expected(a, b, false, true),
  };
}
console.log(JSON.stringify(report, null, 1));
