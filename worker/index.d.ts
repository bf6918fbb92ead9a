// index.d.ts: TypeScript declarations of the edgebert JS API (worker/index.mjs). See docs/API.md.

export type ErrorCode =
  | 'InvalidArgument' | 'NotFound' | 'CorruptData' | 'Unsupported' | 'OutOfRange' | 'IoError' | 'Internal'
  | 'NetworkError' | 'HttpError' | 'IntegrityError' | 'Cancelled' | 'Disposed' | 'WasmTrap' | 'ModelPoisoned'
  | 'WorkerError' | 'Timeout' | 'OutOfMemory';

export declare const ERROR_CODES: readonly ErrorCode[];

export declare class EdgebertError extends Error {
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>);
  readonly name: 'EdgebertError';
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
}

export declare class Tensor {
  constructor(dims: number[], data: Float32Array);
  readonly dims: number[];
  readonly data: Float32Array;
  readonly type: 'float32';
  /** Number of values. */
  readonly size: number;
  /** Nested arrays, like Python's pipeline output. */
  tolist(): any;
  /** transformers.js's slice: per leading dimension an index (dropped), [start, end] or null (all). */
  slice(...slices: (number | [number, number] | null | undefined)[]): Tensor;
  /** Mean over dim (all values when null); keepdim keeps it as size 1. */
  mean(dim?: number | null, keepdim?: boolean): Tensor;
  /** Divided by the p-norm along dim (default L2 over dimension 1). */
  normalize(p?: number, dim?: number): Tensor;
  /** The sub-tensors along the first dimension. */
  [Symbol.iterator](): Iterator<Tensor>;
}

/** transformers.js's env, with its meaning; changes apply to later pipeline() calls. */
export declare const env: {
  /** Default true: 'org/name' ids load from remoteHost. */
  allowRemoteModels: boolean;
  /** Default true in Node, Deno and Bun, false elsewhere: bare ids are looked for under localModelPath first. */
  allowLocalModels: boolean;
  /** Default '/models/'. */
  localModelPath: string;
  /** Default 'https://huggingface.co/'. */
  remoteHost: string;
  /** Default '{model}/resolve/{revision}/'. */
  remotePathTemplate: string;
  /** Default null (the cacheDir default). */
  cacheDir: string | null;
  /** false: no Cache Storage in browsers and edge workers. */
  useBrowserCache: boolean;
  /** false: no cache folder in Node, Deno and Bun. */
  useFSCache: boolean;
  /** A folder URL with edgebert.mjs/.wasm (and the pthreads files), or file name -> URL. */
  wasmPaths: string | Record<string, string> | null;
};

/** A Hugging Face-style repository, fetched from `${baseUrl}/${repo}/resolve/${revision}/${file}`. */
export interface RepoSource {
  repo: string;
  /** Default 'main'. Pin a commit to make the cache reproducible. */
  revision?: string;
  /** Default 'https://huggingface.co'. */
  baseUrl?: string;
}

/** A checkpoint's files (e.g. dropped on a page), converted in the worker like a repository. */
export interface FilesSource {
  files: {
    'config.json': Blob | ArrayBuffer | ArrayBufferView;
    'model.safetensors': Blob | ArrayBuffer | ArrayBufferView;
    'tokenizer.json'?: Blob | ArrayBuffer | ArrayBufferView;
    'vocab.txt'?: Blob | ArrayBuffer | ArrayBufferView;
    'tokenizer_config.json'?: Blob | ArrayBuffer | ArrayBufferView;
    'special_tokens_map.json'?: Blob | ArrayBuffer | ArrayBufferView;
  };
}

export type ModelSource =
  | string                          // URL or path of a packed .ebm, a checkpoint folder, 'org/name' or 'hf:org/name[@revision]'
  | URL
  | { url: string | URL; sha256?: string }
  | RepoSource
  | FilesSource
  | Blob
  | ArrayBuffer
  | ArrayBufferView;

export interface ProgressEvent {
  /** transformers.js's: 'progress' for each update, 'done' once per file, 'ready' when the pipeline is ready. */
  status: 'progress' | 'done' | 'ready';
  /** The model id or source as given. */
  name: string;
  /** Percent of this file, 0-100 (0 while total is unknown). */
  progress: number;
  /** With status 'ready': the task. */
  task?: string;
  file: string;
  loaded: number;
  /** undefined while unknown (no Content-Length); the file's final event has its size. */
  total: number | undefined;
  cached: boolean;
  overall: { loaded: number; total: number | undefined };
}

export interface RuntimeOptions {
  /** Default: 'worker' where a Worker exists (browsers, Node), else 'inline'. */
  device?: 'worker' | 'inline';
  /** A compiled edgebert.wasm, for runtimes that forbid compiling wasm from bytes. */
  wasmModule?: WebAssembly.Module;
  /** false: keep the SIMD128 GEMM kernel where the relaxed-SIMD one would run (same results). Default true. */
  relaxedSimd?: boolean;
  /** A compiled worker/relaxed_kernel.wasm, for runtimes that forbid compiling wasm from bytes. */
  relaxedKernelModule?: WebAssembly.Module;
  wasmUrl?: string | URL;
  glueUrl?: string | URL;
  /** The default export of edgebert.mjs when bundled (device 'inline' only). */
  moduleFactory?: (moduleArg?: object) => Promise<object>;
  /**
   * 'auto' (default): the pthreads build where it can run (cross-origin isolated browser pages),
   * else single-thread; 1: single-thread; N > 1: pthreads or an Unsupported error saying why.
   */
  threads?: 'auto' | number;
  /** Where edgebert-threads.mjs is (give with threadsWasmUrl). */
  threadsGlueUrl?: string | URL;
  /** Where edgebert-threads.wasm is (give with threadsGlueUrl). */
  threadsWasmUrl?: string | URL;
}

export interface LoadOptions extends Omit<RuntimeOptions, 'device'> {
  /** 'worker' | 'inline', or transformers.js's 'wasm' / 'cpu' / 'auto' (the default choice); others are Unsupported. */
  device?: 'worker' | 'inline' | 'wasm' | 'cpu' | 'auto';
  onProgress?: (event: ProgressEvent) => void;
  /** transformers.js spelling of onProgress. */
  progress_callback?: (event: ProgressEvent) => void;
  /** transformers.js: 'q8' (= int8, default), 'int8', 'uint8' or 'fp32'; others are Unsupported. */
  dtype?: 'q8' | 'int8' | 'uint8' | 'fp32';
  /** transformers.js v2: false = fp32. */
  quantized?: boolean;
  /** The Hub revision for an 'org/name' id. */
  revision?: string;
  /** true: no remote models for this call. */
  local_files_only?: boolean;
  /** transformers.js spelling of cacheDir. */
  cache_dir?: string;
  signal?: AbortSignal;
  /** Default true: a folder in Node, Cache Storage in browsers and edge workers. false: download anew and refresh the cached copy. */
  cache?: boolean;
  /** Node only; default $EDGEBERT_CACHE_DIR, else $XDG_CACHE_HOME/edgebert, else ~/.cache/edgebert. */
  cacheDir?: string;
  /** A runtime from createRuntime() to load into (shares its engine and memory). */
  runtime?: Runtime;
  /**
   * Default 'int8' (a checkpoint is packed to int8 in the worker). 'fp32' loads a checkpoint
   * (repository or files) with its fp32 weights: the exact path, same results as transformers
   * within 1e-4, about 4x the memory and slower. Packed .ebm models are always int8.
   */
  quantization?: 'int8' | 'fp32';
  /** Maximum bytes per file: one number, or by file name with an optional `default` (docs/LIMITS.md); never above 4 GiB - 64 MiB. */
  maxFileSize?: number | Record<string, number>;
  /** A download that receives nothing for this long fails with Timeout (default 30000). */
  downloadTimeoutMs?: number;
}

export interface BuildInfo {
  version: string;
  build: 'simd128-single-thread' | 'simd128-pthreads';
  /** 1 for the single-thread build; from eb_build_info for the pthreads build (null until it exists). */
  threads: number | null;
  threadsRequested: 'auto' | number;
  threadsReason: string;
  /** threads: 'auto' on the pthreads build: each pass runs 1 thread or `threads`, whichever measured faster for its size. */
  threads_measured?: boolean;
  /** Logical cores seen where the engine runs (the thread count never exceeds it); null when unknown. */
  cores: number | null;
  simd: boolean;
  /** Whether the int8 GEMMs run the relaxed-SIMD kernel (Chromium, Node >= 22 on x86 with AVX-VNNI). */
  relaxed_simd: boolean;
  /** The int8 GEMM kernel's name (from eb_build_info). */
  gemm_kernel?: string;
  /** Why that kernel: the loader's probe and check result, or why relaxed SIMD is not used here. */
  gemmReason: string | null;
  /** Whether edgebert.wasm exports the model ABI (eb_model_load, eb_run, ...). */
  abi: boolean;
  /** How many times the engine was replaced after a trap, and why the last time (runtime.client 'info'). */
  restarts?: number;
  lastRestart?: string;
  note?: string;
  [key: string]: unknown;
}

export interface ModelInfo {
  model_type: string;
  architecture: string;
  tasks: string[];
  labels: Record<string, string>;
  max_position_embeddings: number;
  hidden_size: number;
  num_layers: number;
  quantization: 'int8' | 'fp32';
  [key: string]: unknown;
}

export interface PipelineInfo {
  model: ModelInfo;
  build: BuildInfo;
  files: { name: string; size: number; cached: boolean; url?: string }[];
  /**
   * How the packed int8 model came to be: 'none' (a packed model, or fp32 weights), 'converted'
   * (this load converted the checkpoint, and stored the result in the cache), 'cached' (the result
   * of an earlier conversion of the same files, read from the cache; `files` then lists it as
   * model.ebm).
   */
  conversion: 'none' | 'converted' | 'cached';
  /** Milliseconds the conversion took in the engine, when this load converted. */
  conversionMs?: number;
}

interface Callable<Args extends any[], Result> {
  (...args: Args): Promise<Result>;
  readonly task: string;
  readonly info: PipelineInfo;
  /** Frees the model (eb_model_free) so the next model reuses its memory. Idempotent. */
  dispose(): Promise<void>;
}

/** Call options also accept their snake_case names (top_k, aggregation_strategy, batch_size, ...). */
interface CallOptions {
  signal?: AbortSignal;
  /** Inputs of an array call per encoder pass (sorted by length, padded): 1..256, default 8. */
  batchSize?: number;
  [snakeCaseAlias: string]: unknown;
}

export interface TextClassificationOptions extends CallOptions {
  topK?: number | null;
  functionToApply?: 'default' | 'sigmoid' | 'softmax' | 'none';
  textPair?: string;
  truncation?: boolean;
}
export interface Label { label: string; score: number }

export interface TokenClassificationOptions extends CallOptions {
  aggregationStrategy?: 'none' | 'simple' | 'first' | 'average' | 'max';
  ignoreLabels?: string[];
  stride?: number;
}
export interface TokenEntity { entity: string; score: number; index: number; word: string; start: number; end: number }
export interface GroupedEntity { entity_group: string; score: number; word: string; start: number; end: number }

export interface QuestionAnsweringOptions extends CallOptions {
  topK?: number;
  docStride?: number;
  maxAnswerLen?: number;
  maxSeqLen?: number;
  maxQuestionLen?: number;
  handleImpossibleAnswer?: boolean;
  alignToWords?: boolean;
}
export interface Answer { score: number; start: number; end: number; answer: string }
export interface QuestionContext { question: string; context: string }

export interface FeatureExtractionOptions extends CallOptions {
  pooling?: 'none' | 'mean' | 'cls';
  normalize?: boolean;
  truncation?: boolean;
}

export interface FillMaskOptions extends CallOptions {
  topK?: number;
  targets?: string | string[];
}
export interface MaskCandidate { score: number; token: number; token_str: string; sequence: string }

export interface TokenizeOptions extends CallOptions {
  textPair?: string;
  addSpecialTokens?: boolean;
  truncation?: boolean;
  maxLength?: number;
}
export interface Encoding {
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
  tokens: string[];
  /** [start, end) in UTF-16 code units of the input; [0, 0] for special tokens. */
  offset_mapping: [number, number][];
  word_ids: (number | null)[];
  sequence_ids: (number | null)[];
  special_tokens_mask: number[];
}

export interface TextClassificationPipeline extends Callable<[string | string[], TextClassificationOptions?], Label[] | Label[][]> {}
export interface TokenClassificationPipeline extends Callable<[string | string[], TokenClassificationOptions?], (TokenEntity | GroupedEntity)[] | (TokenEntity | GroupedEntity)[][]> {}
export interface QuestionAnsweringPipeline {
  (question: string, context: string, options?: QuestionAnsweringOptions): Promise<Answer | Answer[] | null>;
  (input: QuestionContext | QuestionContext[], options?: QuestionAnsweringOptions): Promise<Answer | Answer[] | (Answer | Answer[] | null)[] | null>;
  readonly task: string;
  readonly info: PipelineInfo;
  dispose(): Promise<void>;
}
/** A list with pooling: one [n, hidden] Tensor; a list without pooling: one [1, tokens, hidden] Tensor per input. */
export interface FeatureExtractionPipeline extends Callable<[string | string[], FeatureExtractionOptions?], Tensor | Tensor[]> {}
export interface FillMaskPipeline extends Callable<[string | string[], FillMaskOptions?], MaskCandidate[] | MaskCandidate[][] | MaskCandidate[][][]> {}
export interface Tokenizer extends Callable<[string | string[], TokenizeOptions?], Encoding | Encoding[]> {}

export interface PipelineTypes {
  'text-classification': TextClassificationPipeline;
  'sentiment-analysis': TextClassificationPipeline;
  'token-classification': TokenClassificationPipeline;
  'ner': TokenClassificationPipeline;
  'question-answering': QuestionAnsweringPipeline;
  'feature-extraction': FeatureExtractionPipeline;
  'sentence-embeddings': FeatureExtractionPipeline;
  'fill-mask': FillMaskPipeline;
}

/** source omitted or null: edgebert's own model for the task (DEFAULT_MODELS; docs/API.md "Sources"). */
export declare function pipeline<T extends keyof PipelineTypes>(task: T, source?: ModelSource | null, options?: LoadOptions): Promise<PipelineTypes[T]>;
/** The model each task uses when none is given: models/<name>/model.ebm of the edgebert repository. */
export declare const DEFAULT_MODELS: Readonly<Record<'text-classification' | 'token-classification' | 'question-answering' | 'feature-extraction' | 'sentence-embeddings', string>>;
export declare function tokenizer(source: ModelSource, options?: LoadOptions): Promise<Tokenizer>;
export declare function getBuildInfo(options?: RuntimeOptions & { runtime?: Runtime }): Promise<BuildInfo>;
export declare function createRuntime(options?: RuntimeOptions): Promise<Runtime>;
export declare function closeSharedRuntimes(): Promise<void>;

export declare class Runtime {
  readonly device: 'worker' | 'inline';
  readonly info: BuildInfo;
  readonly closed: boolean;
  /** Stops the worker (or drops the inline engine); pending requests fail with Disposed. */
  close(): Promise<void>;
}
