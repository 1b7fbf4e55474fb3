#!/usr/bin/env python3
"""Submits one inference job to a Gateless node through py-substrate-interface, waits for its
verified result and prints one JSON line: {"client", "version", "job", "result"}. Errors go to
stderr, exit 1. INPUT.json is one tensor {"dtype", "shape", "values"} for a model with one input,
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
    chunks = [substrate.rpc_request('gateless_putChunk', ['0x' + data[start:start + CHUNK_BYTES].hex()])['result']
              for start in range(0, len(data), CHUNK_BYTES)]
    return substrate.rpc_request('gateless_putContent', [len(data), chunks])['result']


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
    print(json.dumps({'client': 'py-substrate-interface', 'version': version('substrate-interface'),
                      'job': job, 'result': result}))
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
