"""Content: bytes that travel between nodes off chain, named on chain by hash and length.

As ``primitives/src/content.rs`` defines it: the bytes are cut into 1 MiB chunks, and their
content hash is the blake2-256 of the SCALE-encoded manifest ``(len: u64, chunks: Vec<H256>)``,
each chunk hashed with blake2-256. The SDK computes it to check what the node answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

#: The size of every chunk but the last.
CHUNK_BYTES = 1024 * 1024


def blake2_256(data: bytes) -> bytes:
    """The blake2b hash of 32 bytes that Substrate calls blake2-256."""
    return hashlib.blake2b(data, digest_size=32).digest()


def chunks(data: bytes) -> Iterator[bytes]:
    """`data` cut into chunks of :data:`CHUNK_BYTES` (the last one shorter)."""
    for start in range(0, len(data), CHUNK_BYTES):
        yield data[start : start + CHUNK_BYTES]


def _compact_length(count: int) -> bytes:
    """SCALE's compact encoding of a length."""
    if count < 1 << 6:
        return bytes([count << 2])
    if count < 1 << 14:
        return ((count << 2) | 1).to_bytes(2, "little")
    if count < 1 << 30:
        return ((count << 2) | 2).to_bytes(4, "little")
    raw = count.to_bytes((count.bit_length() + 7) // 8, "little")
    return bytes([((len(raw) - 4) << 2) | 3]) + raw


def content_hash(data: bytes) -> bytes:
    """The content hash of `data`: blake2-256 of its manifest (length and chunk hashes)."""
    if not data:
        raise ValueError("content has at least one byte")
    chunk_hashes = [blake2_256(chunk) for chunk in chunks(data)]
    manifest = (
        len(data).to_bytes(8, "little")
        + _compact_length(len(chunk_hashes))
        + b"".join(chunk_hashes)
    )
    return blake2_256(manifest)


def to_hex(data: bytes) -> str:
    """``0x``-prefixed hex, as the JSON-RPC takes bytes."""
    return "0x" + data.hex()


def from_hex(text: str) -> bytes:
    """Bytes from ``0x``-prefixed hex."""
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)
