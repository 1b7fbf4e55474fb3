#!/usr/bin/env python3
"""Submits one inference job to a Gateless node through py-substrate-interface, waits for its
verified result and prints one JSON line: {"client", "version", "job", "result", "outputs"},
`outputs` being every output with its values read through the data plane (gateless_output) when
the result keeps some off chain, else null. Errors go to stderr, exit 1. INPUT.json is one tensor {"dtype", "shape", "values"} for a model with one input,
or an object naming a tensor for each of the model's inputs: {"x": {...}, "state": {...}}.

    python submit_job.py --url ws://127.0.0.1:9944 --model 0 --input input.json --suri //Dave \\
        [--replicas 1] [--timeout 120]
"""
import argparse
import json
import signal
import struct
import sys
import time
from importlib.metadata import version

from substrateinterface import Keypair, SubstrateInterface

# struct codes of the dtypes that INPUT.json may name; packed with '<', so little-endian.
FORMATS = {
    'f32': 'f', 'f64': 'd', 'i8': 'b', 'i16': 'h', 'i32': 'i', 'i64': 'q',
    'u8': 'B', 'u16': 'H', 'u32': 'I', 'u64': 'Q', 'bool': '?',
}


def fail(message):
    print(f'submit_job: {message}', file=sys.stderr)
    sys.exit(1)


def encode_values(dtype, values):
    if dtype not in FORMATS:
        fail(f'unsupported dtype {dtype}')
    return struct.pack(f'<{len(values)}{FORMATS[dtype]}', *values)


CHUNK_BYTES = 1024 * 1024


def upload(substrate, data):
    """The data plane's upload: 1 MiB chunks with gateless_putChunk, then gateless_putContent;
    returns the {hash, len} a job names the input by."""
    chunks = []
    for start in range(0, len(data), CHUNK_BYTES):
        if len(data) > CHUNK_BYTES:
            progress(f'uploading an input: {mib(start)} of {mib(len(data))} MiB')
        chunk = data[start:start + CHUNK_BYTES]
        chunks.append(substrate.rpc_request('gateless_putChunk', ['0x' + chunk.hex()])['result'])
    return substrate.rpc_request('gateless_putContent', [len(data), chunks])['result']


def read_outputs(substrate, job):
    """A verified job's outputs with their values: gateless_output has the node fetch (and check)
    those kept off chain; when they are too large for one answer, their chunks are read with
    gateless_contentChunk."""
    answer = substrate.rpc_request('gateless_output', [job])['result']
    outputs = []
    for tensor in answer['tensors']:
        if tensor['bytes'] is not None:
            data = bytes.fromhex(tensor['bytes'][2:])
        else:
            content, data = tensor['content'], b''
            for index, start in enumerate(range(0, content['len'], CHUNK_BYTES)):
                if content['len'] > CHUNK_BYTES:
                    progress(f"reading output {tensor['name']}: {mib(start)} of {mib(content['len'])} MiB")
                chunk = substrate.rpc_request('gateless_contentChunk', [content['hash'], index])['result']
                data += bytes.fromhex(chunk[2:])
        code = FORMATS[tensor['dtype']]
        count = len(data) // struct.calcsize(code)
        outputs.append({'name': tensor['name'], 'dtype': tensor['dtype'], 'shape': tensor['shape'],
                        'values': list(struct.unpack(f'<{count}{code}', data))})
    return outputs


def mib(count):
    return f'{count / CHUNK_BYTES:.1f}'


def progress(line):
    """How far a transfer got, on standard error."""
    print(line, file=sys.stderr, flush=True)


def dtype_variant(substrate, dtype):
    """The runtime's DType variant for `dtype`, from the metadata, so a reordered enum cannot mis-encode."""
    # scalecodec registers every type of the metadata under its path too.
    dtype_type = substrate.create_scale_object('gateless_primitives::model::DType')
    variants = [name for name, _ in dtype_type.type_mapping if name]
    variant = next((name for name in variants if name.lower() == dtype), None)
    if variant is None:
        fail(f'the runtime has no dtype {dtype}')
    return variant


def ordered_inputs(given, declared):
    """The tensors of INPUT.json in the order of the model's declared inputs."""
    if len(declared) == 1 and 'dtype' in given:
        return [given]
    missing = [spec['name'] for spec in declared if spec['name'] not in given]
    if missing:
        fail(f'INPUT.json has no input {", ".join(missing)}')
    return [given[spec['name']] for spec in declared]


def main(args):
    with open(args.input) as file:
        given = json.load(file)
    substrate = SubstrateInterface(url=args.url)
    substrate.init_runtime()

    model = substrate.rpc_request('gateless_model', [args.model])['result']
    if model is None:
        fail(f'no model {args.model}')
    tensors = ordered_inputs(given, model['signature']['inputs'])
    shapes = [tensor['shape'] for tensor in tensors]
    quote = substrate.rpc_request('gateless_quote', [args.model, args.replicas, shapes])['result']
    # Inputs up to the runtime's inline threshold go in the job; larger ones are uploaded to the
    # node first, chunk by chunk, and named by their content hash.
    threshold = substrate.get_constant('InferenceJobs', 'MaxInlineBytes').value
    placed = []
    for tensor in tensors:
        data = encode_values(tensor['dtype'], tensor['values'])
        placed.append({
            'dtype': dtype_variant(substrate, tensor['dtype']),
            'shape': (tensor['shape'],),
            'data': {'Inline': data} if len(data) <= threshold else {'Content': upload(substrate, data)},
        })
    call = substrate.compose_call('InferenceJobs', 'submit_job', {
        'model': args.model,
        # TensorList and BoundedVec are one-field tuple structs that scalecodec does not unwrap.
        'inputs': ((placed,),),
        'replicas': args.replicas,
        'max_fee': int(quote['total']),
    })
    extrinsic = substrate.create_signed_extrinsic(call=call, keypair=Keypair.create_from_uri(args.suri))
    receipt = substrate.submit_extrinsic(extrinsic, wait_for_inclusion=True)
    if not receipt.is_success:
        fail(f"submit_job failed: {receipt.error_message['name']}")
    job = next((event.value['attributes']['job'] for event in receipt.triggered_events
                if (event.value['module_id'], event.value['event_id']) == ('InferenceJobs', 'JobSubmitted')), None)
    if job is None:
        fail('no InferenceJobs.JobSubmitted event')

    while (result := substrate.rpc_request('gateless_result', [job])['result']) is None:
        time.sleep(1)
    outputs = read_outputs(substrate, job) if result['output']['kind'] == 'content' else None
    print(json.dumps({'client': 'py-substrate-interface', 'version': version('substrate-interface'),
                      'job': job, 'result': result, 'outputs': outputs}))
    substrate.close()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description='Submit a Gateless inference job and print its result.')
    parser.add_argument('--url', required=True)
    parser.add_argument('--model', required=True, type=int)
    parser.add_argument('--input', required=True, help='JSON: {"dtype", "shape", "values"}')
    parser.add_argument('--suri', required=True, help='secret URI of an sr25519 key, e.g. //Dave')
    parser.add_argument('--replicas', type=int)
    parser.add_argument('--timeout', type=int, default=120, help='seconds for the whole run')
    args = parser.parse_args()
    # One deadline for the whole run, so a stalled node (no blocks, no result) also ends in exit 1.
    signal.signal(signal.SIGALRM, lambda *_: fail(f'timed out after {args.timeout}s'))
    signal.alarm(args.timeout)
    try:
        main(args)
    except Exception as error:  # a node or library error: report it on one line rather than a trace
        fail(f'{type(error).__name__}: {error}')
