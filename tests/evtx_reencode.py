"""Re-encode one real EVTX record as another event, for cases the corpus lacks (System 104, Windows Firewall 2003…).

The source is the first record of a corpus chunk, whose template is defined inline, so the record stands
alone. Its substitution values are rewritten: the event ID (value 3 of the Windows System template), and the
value that holds UserData (an embedded BinXML fragment) is replaced by elements written here. Literal text of
the template (channel, provider name) keeps its length, so only same-length replacements are made there (the
provider's GUID). The output is one chunk holding that one record, with the record and chunk sizes, record
numbers and both chunk CRC32s recomputed, and the file header's chunk count and CRC32, the way
bench/bench_evtx.py rebuilds chunks.
"""

from __future__ import annotations

import struct
import zlib
from datetime import datetime

HEADER_BLOCK_SIZE, CHUNK_SIZE, CHUNK_HEADER_SIZE = 4096, 65536, 512
FILETIME_EPOCH = datetime(1601, 1, 1)
EVENT_ID_VALUE = 3  # index of EventID among the System template's substitutions
TIME_VALUE = 6  # TimeCreated/SystemTime (FILETIME)


def _name(offset: int, text: str) -> bytes:
    """A name defined inline: the element's name offset points at the bytes that follow it."""
    encoded = text.encode("utf-16-le")
    return struct.pack("<IIHH", offset + 4, 0, 0, len(text)) + encoded + b"\x00\x00"


def _text(text: str) -> bytes:
    return b"\x05\x01" + struct.pack("<H", len(text)) + text.encode("utf-16-le")


def _element(offset: int, name: str, children: list[tuple[str, str]] | None, value: str | None) -> bytes:
    """<name>value</name> or <name><child>v</child>…</name>, names inline, at chunk offset `offset`."""
    # token and data size, then the name offset: inside a substitution value an element has no dependency id
    head = offset + 1 + 4
    body = _name(head, name) + b"\x02"
    position = head + len(body)
    if children is not None:
        for child, text in children:
            inner = _element(position, child, None, text)
            body += inner
            position += len(inner)
    else:
        body += _text(value or "")
    body += b"\x04"
    return b"\x01" + struct.pack("<I", len(body)) + body


def user_data(offset: int, root: str, fields: dict[str, str]) -> bytes:
    """An embedded fragment <root><field>value</field>…</root>, as UserData holds (e.g. LogFileCleared)."""
    return b"\x0f\x01\x01\x00" + _element(offset + 4, root, list(fields.items()), None) + b"\x00"


def _values(record: bytes) -> tuple[int, list[tuple[int, int]], int]:
    """Where the substitution array starts, its (size, type) descriptors and where the values start."""
    if record[24:28] != b"\x0f\x01\x01\x00" or record[28] != 0x0C:
        raise ValueError("not a record holding one template instance")
    (definition,) = struct.unpack_from("<I", record, 34)
    if definition != 0x200 + 38:  # the template must be defined inline, right after the instance header
        raise ValueError("the record's template is not defined inline: use the first record of a chunk")
    (size,) = struct.unpack_from("<I", record, 58)
    array = 62 + size
    (count,) = struct.unpack_from("<I", record, array)
    descriptors = [struct.unpack_from("<HB", record, array + 4 + 4 * i) for i in range(count)]
    return array, descriptors, array + 4 + 4 * count


def reencode(
    source: bytes,
    event_id: int,
    fields: dict[str, str] | None = None,
    root: str = "EventData",
    provider_guid: tuple[str, str] | None = None,
    time: datetime | None = None,
) -> bytes:
    """A one-record EVTX file: the first record of the source's first chunk as `event_id`, with these fields."""
    chunk = bytearray(source[HEADER_BLOCK_SIZE : HEADER_BLOCK_SIZE + CHUNK_SIZE])
    (size,) = struct.unpack_from("<I", chunk, CHUNK_HEADER_SIZE + 4)
    record = bytearray(chunk[CHUNK_HEADER_SIZE : CHUNK_HEADER_SIZE + size - 4])  # without the trailing size copy
    if provider_guid is not None:  # same length: the literal GUID text of the template
        old, new = (g.encode("utf-16-le") for g in provider_guid)
        if len(old) != len(new) or record.count(old) != 1:
            raise ValueError("the provider GUID must occur once and keep its length")
        record = record.replace(old, new)
    array, descriptors, start = _values(bytes(record))
    values, at = [], start
    for length, _ in descriptors:
        values.append(bytes(record[at : at + length]))
        at += length
    values[EVENT_ID_VALUE] = struct.pack("<H", event_id)
    if time is not None:
        ticks = int((time.replace(tzinfo=None) - FILETIME_EPOCH).total_seconds() * 10_000_000)
        values[TIME_VALUE] = struct.pack("<Q", ticks)
        struct.pack_into("<Q", record, 16, ticks)  # the record header's copy of the time
    if fields is not None:
        embedded = next(i for i, (_, kind) in enumerate(descriptors) if kind == 0x21)
        before = start + sum(len(v) for v in values[:embedded])
        values[embedded] = user_data(CHUNK_HEADER_SIZE + before, root, fields)
    out = bytes(record[: array + 4])
    out += b"".join(struct.pack("<HBB", len(v), kind, 0) for v, (_, kind) in zip(values, descriptors, strict=True))
    out += b"".join(values)
    whole = bytearray(out + struct.pack("<I", len(out) + 4))
    struct.pack_into("<I", whole, 4, len(whole))
    struct.pack_into("<Q", whole, 8, 1)  # record number 1
    free = CHUNK_HEADER_SIZE + len(whole)
    chunk[CHUNK_HEADER_SIZE:] = bytes(whole) + bytes(CHUNK_SIZE - free)
    chunk[128:CHUNK_HEADER_SIZE] = bytes(CHUNK_HEADER_SIZE - 128)  # string and template tables: every name is inline
    struct.pack_into("<QQQQ", chunk, 8, 1, 1, 1, 1)  # first/last record number and ID
    struct.pack_into("<III", chunk, 44, CHUNK_HEADER_SIZE, free, zlib.crc32(chunk[CHUNK_HEADER_SIZE:free]))
    struct.pack_into("<I", chunk, 124, zlib.crc32(bytes(chunk[:120]) + bytes(chunk[128:CHUNK_HEADER_SIZE])))
    header = bytearray(source[:HEADER_BLOCK_SIZE])
    struct.pack_into("<QQQ", header, 8, 0, 0, 2)  # first/last chunk, next record ID
    struct.pack_into("<H", header, 42, 1)
    struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
    return bytes(header) + bytes(chunk)
