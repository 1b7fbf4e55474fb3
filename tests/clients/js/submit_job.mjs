#!/usr/bin/env node
// Submits one inference job to a Gateless node through polkadot.js, waits for its verified result
// and prints one JSON line: {"client", "version", "job", "result", "outputs"}, `outputs` being every
// output with its values read through the data plane (gateless_output) when the result keeps some
// off chain, else null. Errors go to stderr, exit 1.
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
    if (bytes.length > CHUNK_BYTES) progress(`uploading an input: ${mib(start)} of ${mib(bytes.length)} MiB`);
    const chunk = bytes.subarray(start, start + CHUNK_BYTES);
    chunks.push(await provider.send('gateless_putChunk', [`0x${Buffer.from(chunk).toString('hex')}`]));
  }
  return provider.send('gateless_putContent', [bytes.length, chunks]);
}

// A verified job's outputs with their values: gateless_output has the node fetch (and check) those
// kept off chain; when they are too large for one answer, their chunks are read with
// gateless_contentChunk.
async function readOutputs(provider, job) {
  const answer = await provider.send('gateless_output', [job]);
  const outputs = [];
  for (const tensor of answer.tensors) {
    let bytes;
    if (tensor.bytes !== null) {
      bytes = Buffer.from(tensor.bytes.slice(2), 'hex');
    } else {
      const parts = [];
      for (let start = 0, index = 0; start < tensor.content.len; start += CHUNK_BYTES, index += 1) {
        if (tensor.content.len > CHUNK_BYTES) progress(`reading output ${tensor.name}: ${mib(start)} of ${mib(tensor.content.len)} MiB`);
        const chunk = await provider.send('gateless_contentChunk', [tensor.content.hash, index]);
        parts.push(Buffer.from(chunk.slice(2), 'hex'));
      }
      bytes = Buffer.concat(parts);
    }
    outputs.push({ name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, values: decodeValues(tensor.dtype, bytes) });
  }
  return outputs;
}

const mib = (bytes) => (bytes / CHUNK_BYTES).toFixed(1);
// How far a transfer got, on standard error.
function progress(line) {
  process.stderr.write(`${line}\n`);
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

// Little-endian readers, the other way round; 64-bit integers come back as Numbers.
const READERS = {
  f32: [4, (buf, at) => buf.readFloatLE(at)],
  f64: [8, (buf, at) => buf.readDoubleLE(at)],
  i8: [1, (buf, at) => buf.readInt8(at)],
  i16: [2, (buf, at) => buf.readInt16LE(at)],
  i32: [4, (buf, at) => buf.readInt32LE(at)],
  i64: [8, (buf, at) => Number(buf.readBigInt64LE(at))],
  u8: [1, (buf, at) => buf.readUInt8(at)],
  u16: [2, (buf, at) => buf.readUInt16LE(at)],
  u32: [4, (buf, at) => buf.readUInt32LE(at)],
  u64: [8, (buf, at) => Number(buf.readBigUInt64LE(at))],
  bool: [1, (buf, at) => buf.readUInt8(at) !== 0],
};

function decodeValues(dtype, bytes) {
  const reader = READERS[dtype];
  if (!reader) fail(`unsupported output dtype ${dtype}`);
  const [size, read] = reader;
  return Array.from({ length: bytes.length / size }, (_, i) => read(bytes, i * size));
}

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
    const outputs = result.output.kind === 'content' ? await readOutputs(provider, job) : null;
    console.log(JSON.stringify({ client: 'polkadot.js', version: packageInfo.version, job, result, outputs }));
  } finally {
    await api.disconnect();
  }
}

// One deadline for the whole run, so a stalled node (no blocks, no result) also ends in exit 1.
const deadline = setTimeout(() => fail(`timed out after ${opts.timeout}s`), Number(opts.timeout) * 1000);
main().then(() => clearTimeout(deadline), (error) => fail(error.message));
