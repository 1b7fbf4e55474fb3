// The connection to the node: polkadot.js for the chain (headers, events, extrinsics, metadata) and
// the same WebSocket for the node's own `gateless_*` methods, called raw through the provider.

import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Signer } from '@polkadot/api/types';
import type { DispatchError, EventRecord } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';

import { DEV_NAMES, token } from './format';
import { Store } from './store';
import { bytesToHex, decodeValues, encodeValues, hexToBytes, type Tensor } from './tensor';
import type { Job, JobResult, Model, Outputs } from './types';

export interface Connection {
  status: 'connecting' | 'connected' | 'disconnected' | 'error';
  url: string;
  source: string;
  chain: string;
  chainType: string;
  isDev: boolean;
  best: number;
  error: string | null;
}

export const connection = new Store<Connection>({
  status: 'connecting', url: '', source: '', chain: '', chainType: '', isDev: false, best: 0, error: null,
});

let api: ApiPromise | null = null;
let provider: WsProvider | null = null;
const ready = new Store<boolean>(false);

export function getApi(): ApiPromise {
  if (!api) throw new Error('not connected');
  return api;
}

/** Resolves once the API is ready (metadata loaded). */
export function whenReady(): Promise<ApiPromise> {
  if (ready.get() && api) return Promise.resolve(api);
  return new Promise((resolve) => {
    const stop = ready.subscribe((isReady) => {
      if (isReady && api) {
        stop();
        resolve(api);
      }
    });
  });
}

/** An error a `gateless_*` method returned: its code, message and `data` (the reason). */
export class RpcFailure extends Error {
  constructor(readonly method: string, readonly code: number | null, readonly reason: string | null, message: string) {
    super(message);
  }
}

const QUOTE_REASONS: Record<string, string> = {
  modelNotActive: 'the model is not active: pending its attestations, rejected, deprecated or banned',
  badReplicas: 'the number of replicas is out of range (1 to 5, and no more than the active validators)',
  badInputs: 'the input shapes do not fit the model\'s declared inputs, or hold too many bytes',
  outputsTooLarge: 'the outputs at these input shapes are larger than an executor may reveal',
  overflow: 'the fee does not fit in a balance',
};

/** Calls one of the node's `gateless_*` methods. */
export async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  await whenReady();
  try {
    return (await provider!.send(method, params)) as T;
  } catch (error) {
    const { code, data, message } = error as { code?: number; data?: unknown; message?: string };
    const reason = typeof data === 'string' ? data : data === undefined || data === null ? null : JSON.stringify(data);
    let text = `${method}: ${message ?? String(error)}`;
    if (code === 9003 && reason) {
      text = `${method} refused (9003 no quote): ${reason}${QUOTE_REASONS[reason] ? ` — ${QUOTE_REASONS[reason]}` : ''}`;
    }
    throw new RpcFailure(method, code ?? null, reason, text);
  }
}

// ---- blocks and events: the live feed -------------------------------------------------------

export interface FeedEvent {
  block: number;
  section: string;
  method: string;
  data: Record<string, unknown>;
}

export interface FeedBlock {
  number: number;
  hash: string;
  /** When this page saw it (ms). */
  seen: number;
  extrinsics: number;
  events: FeedEvent[];
}

/** The recent blocks this page has seen, newest first, with the Gateless pallets' events. */
export const feed = new Store<FeedBlock[]>([]);
const FEED_BLOCKS = 400;
const BACKFILL_BLOCKS = 60;
const SECTIONS = new Set(['inferenceJobs', 'modelRegistry', 'verification', 'staking', 'validatorStaking']);

function eventData(record: EventRecord): Record<string, unknown> {
  const { event } = record;
  // Text fields (names, versions: bounded byte vectors) as text, the rest as JSON.
  const json = (event.data as unknown as Codec[]).map((value) => {
    const bytes = value as unknown as { isUtf8?: boolean; toUtf8?: () => string; toRawType(): string };
    if (bytes.toRawType() === 'Bytes' && bytes.isUtf8 && bytes.toUtf8) return bytes.toUtf8();
    return value.toJSON();
  });
  const names = (event.data as unknown as { names?: string[] | null }).names
    ?? event.meta.fields.map((field, i) => (field.name.isSome ? field.name.unwrap().toString() : String(i)));
  const out: Record<string, unknown> = {};
  json.forEach((value, i) => {
    const name = names?.[i] ?? String(i);
    out[name.replace(/_+$/, '').replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  });
  return out;
}

async function readBlock(number: number, hash: string): Promise<FeedBlock> {
  const a = getApi();
  const [records, block] = await Promise.all([
    a.query.system.events.at(hash) as unknown as Promise<EventRecord[]>,
    a.rpc.chain.getBlock(hash),
  ]);
  const events = records
    .filter(({ event }) => SECTIONS.has(event.section) || (event.section === 'system' && event.method === 'ExtrinsicFailed'))
    .map((record) => {
      const data = eventData(record);
      if (record.event.method === 'ExtrinsicFailed') {
        // The error by name, as the submitter saw it.
        data.error = describeDispatchError(record.event.data[0] as DispatchError);
        delete data.dispatchError;
        delete data.dispatchInfo;
      }
      return { block: number, section: record.event.section, method: record.event.method, data };
    });
  return { number, hash, seen: Date.now(), extrinsics: block.block.extrinsics.length, events };
}

function addBlock(block: FeedBlock): void {
  feed.update((blocks) => {
    const rest = blocks.filter((b) => b.number !== block.number);
    const all = [block, ...rest].sort((x, y) => y.number - x.number);
    return all.slice(0, FEED_BLOCKS);
  });
}

const headListeners = new Set<(number: number) => void>();

/** Called with each new best block's number. */
export function onHead(listener: (number: number) => void): () => void {
  headListeners.add(listener);
  return () => headListeners.delete(listener);
}

async function backfill(best: number): Promise<void> {
  const a = getApi();
  for (let number = best - 1; number >= Math.max(1, best - BACKFILL_BLOCKS); number--) {
    if (feed.get().some((b) => b.number === number)) continue;
    try {
      const hash = (await a.rpc.chain.getBlockHash(number)).toHex();
      const block = await readBlock(number, hash);
      block.seen = 0;
      addBlock(block);
    } catch {
      return; // Pruned state, or disconnected: the feed starts where it can.
    }
  }
}

// ---- connecting ---------------------------------------------------------------------------------

export async function connect(url: string, source: string): Promise<void> {
  connection.update((c) => ({ ...c, url, source, status: 'connecting' }));
  provider = new WsProvider(url, 2500);
  provider.on('disconnected', () => connection.update((c) => ({ ...c, status: 'disconnected' })));
  provider.on('connected', () => connection.update((c) => (ready.get() ? { ...c, status: 'connected' } : c)));
  provider.on('error', () => connection.update((c) => (c.status === 'connected' ? c : { ...c, status: 'error', error: `cannot reach ${url}` })));
  api = await ApiPromise.create({
    provider,
    // AuthorizeCall is newer than polkadot.js; it adds nothing to the extrinsic or its payload.
    signedExtensions: { AuthorizeCall: { extrinsic: {}, payload: {} } },
    noInitWarn: true,
    throwOnConnect: false,
  });
  await Promise.all([api.isReady, cryptoWaitReady()]);
  const [chain, chainType] = await Promise.all([api.rpc.system.chain(), api.rpc.system.chainType()]);
  token.decimals = api.registry.chainDecimals[0] ?? 12;
  token.symbol = api.registry.chainTokens[0] ?? 'GATE';
  const isDev = chain.toString() === 'Development' || chainType.isDevelopment;
  const keyring = new Keyring({ type: 'sr25519', ss58Format: api.registry.chainSS58 ?? 42 });
  for (const name of DEV_ACCOUNTS) {
    DEV_NAMES.set(keyring.addFromUri(`//${name}`).address, name);
    DEV_NAMES.set(keyring.addFromUri(`//${name}//stash`).address, `${name} (stash)`);
  }
  connection.update((c) => ({ ...c, status: 'connected', chain: chain.toString(), chainType: chainType.type, isDev, error: null }));
  ready.set(true);
  let first = true;
  await api.rpc.chain.subscribeNewHeads(async (header) => {
    const number = header.number.toNumber();
    connection.update((c) => ({ ...c, best: Math.max(c.best, number), status: 'connected' }));
    headListeners.forEach((listener) => listener(number));
    try {
      addBlock(await readBlock(number, header.hash.toHex()));
    } catch {
      // A block this node no longer has state for: skipped.
    }
    if (first) {
      first = false;
      void backfill(number);
    }
  });
}

// ---- accounts -----------------------------------------------------------------------------------

export const DEV_ACCOUNTS = ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'];

/** Who signs: a dev account of the keyring, or an account of a browser wallet extension. */
export type Account =
  | { kind: 'dev'; name: string; address: string; pair: KeyringPair }
  | { kind: 'extension'; name: string; address: string; source: string; signer: Signer };

export function devAccount(name: string): Account {
  const a = getApi();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: a.registry.chainSS58 ?? 42 });
  const pair = keyring.addFromUri(`//${name}`);
  return { kind: 'dev', name: `//${name}`, address: pair.address, pair };
}

/** The accounts of the browser's wallet extensions (polkadot.js, Talisman, SubWallet, ...). */
export async function extensionAccounts(): Promise<Account[]> {
  const { web3Enable, web3Accounts, web3FromSource } = await import('@polkadot/extension-dapp');
  const extensions = await web3Enable('Gateless');
  if (extensions.length === 0) throw new Error('no wallet extension answered (none installed, or access refused)');
  const accounts = await web3Accounts({ ss58Format: 42 });
  if (accounts.length === 0) throw new Error('the wallet extension shares no account with this page');
  const out: Account[] = [];
  for (const account of accounts) {
    const injector = await web3FromSource(account.meta.source);
    out.push({
      kind: 'extension',
      name: `${account.meta.name ?? 'account'} (${account.meta.source})`,
      address: account.address,
      source: account.meta.source,
      signer: injector.signer,
    });
  }
  return out;
}

export async function freeBalance(address: string): Promise<bigint> {
  const a = await whenReady();
  const info = (await a.query.system.account(address)) as unknown as { data: { free: { toString(): string } } };
  return BigInt(info.data.free.toString());
}

// ---- errors -------------------------------------------------------------------------------------

/** A dispatch error as the Rust client prints it: `Pallet::Name: the pallet's explanation`. */
export function describeDispatchError(error: DispatchError): string {
  const a = getApi();
  if (error.isModule) {
    try {
      const { section, name, docs } = a.registry.findMetaError(error.asModule);
      const pallet = section.charAt(0).toUpperCase() + section.slice(1);
      const explanation = docs.map((line) => line.trim()).join(' ').trim();
      return `${pallet}::${name}${explanation ? `: ${explanation}` : ''}`;
    } catch {
      return error.toString();
    }
  }
  if (error.isToken) return `Token::${error.asToken.type}`;
  if (error.isArithmetic) return `Arithmetic::${error.asArithmetic.type}`;
  if (error.isTransactional) return `Transactional::${error.asTransactional.type}`;
  return error.type;
}

const HINTS: Record<string, string> = {
  CannotAffordFee: 'the account\'s free balance does not cover it',
  InsufficientDeposit: 'the account\'s free balance does not cover it',
  ModelNotActive: 'the model must be active (attested by the validators)',
  FeeAboveMax: 'the fee is above the max fee; the quote shows it',
  InputDTypeMismatch: 'the input does not match the model\'s declared input',
  InputRankMismatch: 'the input does not match the model\'s declared input',
  InputShapeMismatch: 'the input does not match the model\'s declared input',
  InputLengthMismatch: 'the input does not match the model\'s declared input',
};

export class ChainRefusal extends Error {
  constructor(readonly pallet: string, readonly errorName: string, message: string) {
    super(message);
  }
}

// ---- jobs ---------------------------------------------------------------------------------------

const CHUNK_BYTES = 1024 * 1024;

/** The data plane's upload: 1 MiB chunks with gateless_putChunk, then gateless_putContent. */
export async function upload(data: Uint8Array, progress: (text: string) => void): Promise<{ hash: string; len: number }> {
  const chunks: string[] = [];
  for (let start = 0; start < data.length; start += CHUNK_BYTES) {
    progress(`uploading an input: ${(start / CHUNK_BYTES).toFixed(1)} of ${(data.length / CHUNK_BYTES).toFixed(1)} MiB`);
    const chunk = bytesToHex(data.subarray(start, start + CHUNK_BYTES));
    for (;;) {
      try {
        chunks.push(await rpc<string>('gateless_putChunk', [chunk]));
        break;
      } catch (error) {
        // 9006: this connection's upload allowance for the minute is used up; wait and go on.
        if (error instanceof RpcFailure && error.code === 9006) {
          progress('upload allowance for the minute used up: waiting');
          await new Promise((resolve) => setTimeout(resolve, 2000));
          continue;
        }
        throw error;
      }
    }
  }
  return rpc('gateless_putContent', [data.length, chunks]);
}

function dtypeVariants(): string[] {
  try {
    return (getApi().createType('GatelessPrimitivesModelDType') as unknown as { defKeys: string[] }).defKeys;
  } catch {
    return ['F32', 'F64', 'F16', 'I8', 'I16', 'I32', 'I64', 'U8', 'U16', 'U32', 'U64', 'Bool'];
  }
}

export interface Submission {
  model: number;
  tensors: Tensor[];
  replicas: number | null;
  maxFee: bigint;
  account: Account;
  progress: (text: string) => void;
}

/** Submits `inferenceJobs.submitJob` and resolves with the job id once it is in a block. */
export async function submitJob({ model, tensors, replicas, maxFee, account, progress }: Submission): Promise<{ job: number; block: string; uploaded: { index: number; hash: string; len: number }[] }> {
  const a = await whenReady();
  const variants = dtypeVariants();
  const threshold = (a.consts.inferenceJobs.maxInlineBytes as unknown as { toNumber(): number }).toNumber();
  const inputs = [];
  const uploaded: { index: number; hash: string; len: number }[] = [];
  for (const [index, tensor] of tensors.entries()) {
    const dtype = variants.find((name) => name.toLowerCase() === tensor.dtype);
    if (!dtype) throw new Error(`the runtime has no dtype ${tensor.dtype}`);
    // Hex, because polkadot.js reads a Uint8Array given for `Vec<u8>` as already SCALE-encoded.
    let data;
    if (tensor.data.length <= threshold) data = { Inline: bytesToHex(tensor.data) };
    else {
      const content = await upload(tensor.data, progress);
      uploaded.push({ index, ...content });
      data = { Content: content };
    }
    inputs.push({ dtype, shape: tensor.shape, data });
  }
  const tx = a.tx.inferenceJobs.submitJob(model, inputs, replicas, maxFee.toString());
  progress('signing');
  return new Promise((resolve, reject) => {
    const signer = account.kind === 'dev' ? account.pair : account.address;
    const options = account.kind === 'extension' ? { signer: account.signer } : {};
    tx.signAndSend(signer, options, (result) => {
      const { status } = result;
      if (status.isReady || status.isBroadcast) progress('in the transaction pool');
      if (status.isInBlock) {
        const block = status.asInBlock.toHex();
        if (result.dispatchError) {
          const text = describeDispatchError(result.dispatchError);
          const name = text.split(':')[0];
          const [pallet, errorName] = name.split('::');
          const hint = HINTS[errorName];
          reject(new ChainRefusal(pallet, errorName ?? '', `the chain refused it: ${text}${hint ? ` (${hint})` : ''}`));
          return;
        }
        const submitted = result.events.find(({ event }) => a.events.inferenceJobs.JobSubmitted.is(event));
        if (!submitted) {
          reject(new Error('no InferenceJobs.JobSubmitted event'));
          return;
        }
        resolve({ job: Number((submitted.event.data as unknown as { job: { toString(): string } }).job.toString()), block, uploaded });
      } else if (status.isDropped || status.isInvalid || status.isUsurped) {
        reject(new Error(`the transaction was ${status.type.toLowerCase()}`));
      }
    }).catch((error: Error) => reject(new Error(`the node refused the transaction: ${error.message}`)));
  });
}

/** Follows a job: `gateless_subscribeJob`, or polling `gateless_job` at each block when the node
 * does not serve the subscription. Returns the function that stops following it. */
export function followJob(id: number, update: (job: Job) => void): () => void {
  let stopped = false;
  let subscription: string | number | null = null;
  let stopPolling: (() => void) | null = null;
  const poll = () => {
    stopPolling = onHead(async () => {
      if (stopped) return;
      const job = await rpc<Job | null>('gateless_job', [id]).catch(() => null);
      if (job && !stopped) update(job);
    });
  };
  whenReady().then(() => {
    if (stopped) return;
    provider!
      .subscribe('gateless_jobUpdate', 'gateless_subscribeJob', [id], (error: Error | null, job: Job) => {
        if (!error && job && !stopped) update(job);
      })
      .then((id) => {
        subscription = id;
        if (stopped) provider!.unsubscribe('gateless_jobUpdate', 'gateless_unsubscribeJob', id).catch(() => {});
      })
      .catch(poll);
    // Polling beside the subscription too: cheap, and it covers a subscription the node ended.
    poll();
  });
  return () => {
    stopped = true;
    stopPolling?.();
    if (subscription !== null) provider!.unsubscribe('gateless_jobUpdate', 'gateless_unsubscribeJob', subscription).catch(() => {});
  };
}

export interface ReadOutput {
  name: string | null;
  dtype: string;
  shape: number[];
  values: number[];
  data: Uint8Array | null;
}

/** A verified job's outputs with their values: inline from gateless_result, else read through
 * gateless_output (and gateless_contentChunk for large ones). */
export async function readOutputs(result: JobResult): Promise<ReadOutput[]> {
  if (result.output.kind === 'error') return [];
  if (result.output.kind === 'tensors') {
    return result.output.tensors.map((t) => {
      const values = t.values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : Number(v)));
      let data: Uint8Array | null = null;
      try {
        data = encodeValues(t.dtype, values);
      } catch {
        data = null;
      }
      return { name: t.name, dtype: t.dtype, shape: t.shape, values, data };
    });
  }
  const answer = await rpc<Outputs>('gateless_output', [result.job]);
  const out: ReadOutput[] = [];
  for (const tensor of answer.tensors) {
    let data: Uint8Array;
    if (tensor.bytes !== null) data = hexToBytes(tensor.bytes);
    else {
      const length = tensor.content?.len ?? 0;
      data = new Uint8Array(length);
      for (let start = 0, index = 0; start < length; start += CHUNK_BYTES, index++) {
        const chunk = hexToBytes(await rpc<string>('gateless_contentChunk', [tensor.content!.hash, index]));
        data.set(chunk, start);
      }
    }
    out.push({ name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, values: decodeValues(tensor.dtype, data), data });
  }
  return out;
}

// ---- models -------------------------------------------------------------------------------------

/** Every registered model, page after page. */
export async function allModels(): Promise<Model[]> {
  const models: Model[] = [];
  let from: number | null = 0;
  for (let pages = 0; from !== null && pages < 100; pages++) {
    const page: { models: Model[]; next: number | null } = await rpc('gateless_models', [from, 100]);
    models.push(...page.models);
    from = page.next;
  }
  return models;
}
