#!/usr/bin/env node
// Submits one inference job to a Gateless node through polkadot.js, waits for its verified result
// and prints one JSON line: {"client", "version", "job", "result"}. Errors go to stderr, exit 1.
// INPUT.json is one tensor {"dtype", "shape", "values"} for a model with one input, or an object
// naming a tensor for each of the model's inputs: {"x": {...}, "state": {...}}.
//
//   node submit_job.mjs --url ws://127.0.0.1:9944 --model 0 --input input.json --suri //Dave \
//     [--replicas 1] [--timeout 120]
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ApiPromise, Keyring, WsProvider, packageInfo } from '@polkadot/api';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    model: { type: 'string' },
    input: { type: 'string' },
    suri: { type: 'string' },
    replicas: { type: 'string' },
    timeout: { type: 'string', default: '120' },
  },
});
for (const flag of ['url', 'model', 'input', 'suri']) {
  if (!opts[flag]) fail(`--${flag} is required`);
}

// The data plane's upload: 1 MiB chunks with gateless_putChunk, then gateless_putContent; returns
// the {hash, len} a job names the input by.
const CHUNK_BYTES = 1024 * 1024;
async function upload(provider, bytes) {
  const chunks = [];
  for (let start = 0; start < bytes.length; start += CHUNK_BYTES) {
    const chunk = bytes.subarray(start, start + CHUNK_BYTES);
    chunks.push(await provider.send('gateless_putChunk', [`0x${Buffer.from(chunk).toString('hex')}`]));
  }
  return provider.send('gateless_putContent', [bytes.length, chunks]);
}

// Little-endian writers for each dtype that INPUT.json may name; 64-bit integers go through BigInt.
const WRITERS = {
  f32: [4, (buf, x, at) => buf.writeFloatLE(x, at)],
  f64: [8, (buf, x, at) => buf.writeDoubleLE(x, at)],
  i8: [1, (buf, x, at) => buf.writeInt8(x, at)],
  i16: [2, (buf, x, at) => buf.writeInt16LE(x, at)],
  i32: [4, (buf, x, at) => buf.writeInt32LE(x, at)],
  i64: [8, (buf, x, at) => buf.writeBigInt64LE(BigInt(x), at)],
  u8: [1, (buf, x, at) => buf.writeUInt8(x, at)],
  u16: [2, (buf, x, at) => buf.writeUInt16LE(x, at)],
  u32: [4, (buf, x, at) => buf.writeUInt32LE(x, at)],
  u64: [8, (buf, x, at) => buf.writeBigUInt64LE(BigInt(x), at)],
  bool: [1, (buf, x, at) => buf.writeUInt8(x ? 1 : 0, at)],
};

function fail(message) {
  console.error(`submit_job: ${message}`);
  process.exit(1);
}

// Hex, because polkadot.js reads a Uint8Array given for `Vec<u8>` as already SCALE-encoded.
function encodeValues(dtype, values) {
  const writer = WRITERS[dtype];
  if (!writer) fail(`unsupported dtype ${dtype}`);
  const [size, write] = writer;
  const buf = Buffer.alloc(values.length * size);
  values.forEach((x, i) => write(buf, x, i * size));
  return `0x${buf.toString('hex')}`;
}

// Waits until the extrinsic is in a block; rejects if the pool drops or refuses it.
function submitAndWatch(tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, (result) => {
      if (result.status.isInBlock) resolve(result);
      else if (result.isError) reject(new Error(`transaction ${result.status.type}`));
    }).catch(reject);
  });
}

// A pallet error as `Pallet.Error`, which is what a caller can act on.
function describeError(api, error) {
  if (!error.isModule) return error.toString();
  const { section, name } = api.registry.findMetaError(error.asModule);
  return `${section}.${name}`;
}

// The tensors of INPUT.json in the order of the model's declared inputs.
function orderedInputs(input, declared) {
  if (declared.length === 1 && 'dtype' in input) return [input];
  return declared.map(({ name }) => input[name] ?? fail(`INPUT.json has no input \`${name}\``));
}

async function main() {
  const input = JSON.parse(readFileSync(opts.input, 'utf8'));
  const model = Number(opts.model);
  const replicas = opts.replicas === undefined ? null : Number(opts.replicas);

  // Kept for the node's own gateless_* methods, which polkadot.js does not decorate.
  const provider = new WsProvider(opts.url);
  const api = await ApiPromise.create({
    provider,
    // AuthorizeCall is newer than polkadot.js; it adds nothing to the extrinsic or the payload.
    signedExtensions: { AuthorizeCall: { extrinsic: {}, payload: {} } },
    // The gateless_* methods are called through provider.send: no warning that they are undecorated.
    noInitWarn: true,
  });
  try {
    const info = await provider.send('gateless_model', [model]);
    if (info === null) fail(`no model ${model}`);
    const inputs = orderedInputs(input, info.signature.inputs);
    const shapes = inputs.map((tensor) => tensor.shape);
    const quote = await provider.send('gateless_quote', [model, replicas, shapes]);

    // DType variant names come from the metadata (the type named after its Rust path), so a
    // reordered enum cannot mis-encode.
    const submitJob = api.tx.inferenceJobs.submitJob;
    const dtypes = api.createType('GatelessPrimitivesModelDType').defKeys;
    // Inputs up to the runtime's inline threshold go in the job; larger ones are uploaded to the
    // node first, chunk by chunk, and named by their content hash.
    const threshold = api.consts.inferenceJobs.maxInlineBytes.toNumber();
    const tensors = [];
    for (const tensor of inputs) {
      const dtype = dtypes.find((name) => name.toLowerCase() === tensor.dtype);
      if (!dtype) fail(`the runtime has no dtype ${tensor.dtype}`);
      const hex = encodeValues(tensor.dtype, tensor.values);
      const bytes = Buffer.from(hex.slice(2), 'hex');
      const data = bytes.length <= threshold
        ? { Inline: hex }
        : { Content: await upload(provider, bytes) };
      tensors.push({ dtype, shape: tensor.shape, data });
    }

    const signer = new Keyring({ type: 'sr25519' }).addFromUri(opts.suri);
    const included = await submitAndWatch(submitJob(model, tensors, replicas, quote.total), signer);
    if (included.dispatchError) fail(`submit_job failed: ${describeError(api, included.dispatchError)}`);
    const submitted = included.events.find(({ event }) => api.events.inferenceJobs.JobSubmitted.is(event));
    if (!submitted) fail('no InferenceJobs.JobSubmitted event');
    const job = submitted.event.data.job.toNumber();

    let result;
    while ((result = await provider.send('gateless_result', [job])) === null) await sleep(1000);
    console.log(JSON.stringify({ client: 'polkadot.js', version: packageInfo.version, job, result }));
  } finally {
    await api.disconnect();
  }
}

// One deadline for the whole run, so a stalled node (no blocks, no result) also ends in exit 1.
const deadline = setTimeout(() => fail(`timed out after ${opts.timeout}s`), Number(opts.timeout) * 1000);
main().then(() => clearTimeout(deadline), (error) => fail(error.message));
