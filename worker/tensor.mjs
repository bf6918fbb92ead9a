// tensor.mjs: the dense float32 Tensor that feature extraction returns, with the helpers code
// written for transformers.js calls (dims, data, size, tolist, mean, normalize, slice, iteration
// over the first dimension), with transformers.js's meaning.

import { EdgebertError } from './errors.mjs';

export class Tensor {
  /**
   * @param {number[]} dims e.g. [1, tokens, hidden] or [n, hidden]
   * @param {Float32Array} data row-major, dims.reduce(*) values
   */
  constructor(dims, data) {
    this.dims = dims;
    this.data = data;
    this.type = 'float32';
  }

  /** Number of values. */
  get size() {
    return this.dims.reduce((a, b) => a * b, 1);
  }

  /** Nested arrays, like Python's pipeline output. */
  tolist() {
    const build = (offset, d) => {
      if (d === this.dims.length - 1) return Array.from(this.data.subarray(offset, offset + this.dims[d]));
      const stride = this.dims.slice(d + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.dims[d] }, (_, i) => build(offset + i * stride, d + 1));
    };
    return this.dims.length === 0 ? (this.data.length ? this.data[0] : []) : build(0, 0);
  }

  /** The sub-tensors along the first dimension: `const [a, b] = await extractor(['x', 'y'])`. */
  *[Symbol.iterator]() {
    if (this.dims.length === 0) throw new EdgebertError('InvalidArgument', 'a 0-dimensional Tensor is not iterable');
    for (let i = 0; i < this.dims[0]; ++i) yield this.slice(i);
  }

  /**
   * transformers.js's slice: one argument per leading dimension, each an index (the dimension is
   * dropped), [start, end] (end exclusive, negative counts from the end) or null/undefined (all).
   */
  slice(...slices) {
    if (slices.length > this.dims.length) {
      throw new EdgebertError('InvalidArgument', `slice: ${slices.length} slices for a ${this.dims.length}-dimensional Tensor`);
    }
    const ranges = [];
    const outDims = [];
    this.dims.forEach((n, d) => {
      const s = slices[d];
      if (s === undefined || s === null) {
        ranges.push([0, n]);
        outDims.push(n);
      } else if (typeof s === 'number') {
        const i = s < 0 ? n + s : s;
        if (!Number.isInteger(i) || i < 0 || i >= n) throw new EdgebertError('InvalidArgument', `slice: index ${s} out of range for dimension ${d} of size ${n}`);
        ranges.push([i, i + 1]);
      } else if (Array.isArray(s) && s.length === 2) {
        const clamp = (v, dflt) => (v === undefined || v === null ? dflt : Math.min(Math.max(v < 0 ? n + v : v, 0), n));
        const a = clamp(s[0], 0), b = clamp(s[1], n);
        if (!Number.isInteger(a) || !Number.isInteger(b) || b < a) throw new EdgebertError('InvalidArgument', `slice: bad range ${JSON.stringify(s)} for dimension ${d} of size ${n}`);
        ranges.push([a, b]);
        outDims.push(b - a);
      } else {
        throw new EdgebertError('InvalidArgument', `slice: dimension ${d} takes an index, [start, end] or null; got ${JSON.stringify(s)}`);
      }
    });
    const strides = stridesOf(this.dims);
    const out = new Float32Array(ranges.reduce((a, [s, e]) => a * (e - s), 1));
    let k = 0;
    const walk = (d, offset) => {
      const [s, e] = ranges[d];
      if (d === ranges.length - 1) {
        out.set(this.data.subarray(offset + s, offset + e), k);
        k += e - s;
        return;
      }
      for (let i = s; i < e; ++i) walk(d + 1, offset + i * strides[d]);
    };
    if (out.length) walk(0, 0);
    return new Tensor(outDims, out);
  }

  /** Mean over `dim` (all values when null), keeping it as size 1 with keepdim. */
  mean(dim = null, keepdim = false) {
    if (dim === null || dim === undefined) {
      let s = 0;
      for (const v of this.data) s += v;
      return new Tensor(keepdim ? this.dims.map(() => 1) : [], new Float32Array([this.size ? s / this.size : NaN]));
    }
    const d = this.#axis(dim, 'mean');
    const { out, dims } = this.#reduce(d, (values) => values.reduce((a, b) => a + b, 0) / values.length);
    return new Tensor(keepdim ? dims.map((n, i) => (i === d ? 1 : n)) : dims.filter((_, i) => i !== d), out);
  }

  /** Divides by the p-norm along `dim` (default: L2 over dimension 1, as transformers.js). */
  normalize(p = 2, dim = 1) {
    const d = this.#axis(dim, 'normalize');
    const { out: norms } = this.#reduce(d, (values) => Math.pow(values.reduce((a, v) => a + Math.pow(Math.abs(v), p), 0), 1 / p));
    const strides = stridesOf(this.dims);
    const out = new Float32Array(this.data.length);
    const outer = this.dims.slice(0, d).reduce((a, b) => a * b, 1);
    const inner = strides[d];
    for (let o = 0; o < outer; ++o) {
      for (let i = 0; i < this.dims[d]; ++i) {
        for (let j = 0; j < inner; ++j) {
          const idx = o * this.dims[d] * inner + i * inner + j;
          out[idx] = this.data[idx] / norms[o * inner + j];
        }
      }
    }
    return new Tensor([...this.dims], out);
  }

  #axis(dim, what) {
    const d = dim < 0 ? this.dims.length + dim : dim;
    if (!Number.isInteger(d) || d < 0 || d >= this.dims.length) {
      throw new EdgebertError('InvalidArgument', `${what}: dimension ${dim} out of range for a ${this.dims.length}-dimensional Tensor`);
    }
    return d;
  }

  // Applies fn to each line of values along dimension d; out has dims with d removed (row-major).
  #reduce(d, fn) {
    const strides = stridesOf(this.dims);
    const outer = this.dims.slice(0, d).reduce((a, b) => a * b, 1);
    const inner = strides[d];
    const out = new Float32Array(outer * inner);
    const line = new Array(this.dims[d]);
    for (let o = 0; o < outer; ++o) {
      for (let j = 0; j < inner; ++j) {
        for (let i = 0; i < this.dims[d]; ++i) line[i] = this.data[o * this.dims[d] * inner + i * inner + j];
        out[o * inner + j] = fn(line);
      }
    }
    return { out, dims: this.dims };
  }
}

function stridesOf(dims) {
  const strides = new Array(dims.length);
  let s = 1;
  for (let d = dims.length - 1; d >= 0; --d) {
    strides[d] = s;
    s *= dims[d];
  }
  return strides;
}

/** Stacks same-shaped [1, ...rest] tensors into one [n, ...rest]. */
export function stack(tensors) {
  const rest = tensors[0].dims.slice(1);
  const per = rest.reduce((a, b) => a * b, 1);
  const data = new Float32Array(per * tensors.length);
  tensors.forEach((t, i) => data.set(t.data.subarray(0, per), i * per));
  return new Tensor([tensors.length, ...rest], data);
}
