"""Throughput and peak memory of EVTX summarisation, against the parsers it could be built on.

Run:  .venv/bin/python bench/bench_evtx.py [--copies 100] [--pyevtx-copies 1] [--repeat 3]
Prints one line per measurement; results with the command go in docs/benchmarks.md.

Measured, each in its own child process, started through a shell so that its ru_maxrss is its own alone
(Linux carries ru_maxrss over exec, so a child exec'd straight from the parent would inherit the parent's peak):
  summarize_evtx        auditpack's collectors.parsers.evtx_summary.summarize_evtx
  evtx records()        the Rust `evtx` package's own iteration, XML strings, nothing else done
  evtx records_json()   the same, JSON strings (what summarize_evtx reads)
  records_json+loads    the same plus json.loads of each record: where summarize_evtx's own time starts
  python-evtx           pure-Python `Evtx.Evtx`: every record's XML rendered and its EventID read
                        (not a project dependency: `.venv/bin/pip install python-evtx`; skipped without it)

Input: the largest corpus file, its used chunks repeated --copies times into one valid log in a temporary
directory. Each copy's record numbers and IDs are shifted so they run 1..N without repeats, the chunk
header fields and both chunk CRC32s are recomputed, and the file header gets the new chunk count,
last chunk number and next record ID, and its CRC32. Before timing, the built file is checked: `evtx`
and python-evtx must both read exactly the expected records with IDs 1..N, python-evtx's own header
and chunk checksum checks must pass; summarize_evtx must report no errors (its own header and chunk
checksum checks included) and count every record on each timed pass.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path("/work/shared/corpus/windows_security_evtx/omerbenamram__evtx/security.evtx")

HEADER_BLOCK_SIZE = 4096
CHUNK_SIZE = 65536
CHUNK_HEADER_SIZE = 512
CHUNK_MAGIC = b"ElfChnk\x00"
RECORD_MAGIC = b"\x2a\x2a\x00\x00"

PYEVTX_MISSING = (
    "python-evtx is not installed, so its row is skipped (install it for the benchmark only: .venv/bin/pip install python-evtx)"
)


# ---------------------------------------------------------------- building the large file


def _used_chunks(data: bytes) -> list[bytes]:
    """The chunks the file header declares, each checked for its signature."""
    (declared,) = struct.unpack_from("<H", data, 42)
    chunks = [data[HEADER_BLOCK_SIZE + i * CHUNK_SIZE : HEADER_BLOCK_SIZE + (i + 1) * CHUNK_SIZE] for i in range(declared)]
    for i, chunk in enumerate(chunks):
        if len(chunk) != CHUNK_SIZE or not chunk.startswith(CHUNK_MAGIC):
            raise SystemExit(f"source chunk {i} is missing or has no ElfChnk signature")
    return chunks


def _shifted_chunk(chunk: bytes, shift: int) -> tuple[bytes, int]:
    """The chunk with every record number/ID moved up by `shift`, its CRCs recomputed; also its record count."""
    out = bytearray(chunk)
    for at in (8, 16, 24, 32):  # first/last event record number, first/last event record ID
        struct.pack_into("<Q", out, at, struct.unpack_from("<Q", out, at)[0] + shift)
    (free,) = struct.unpack_from("<I", out, 48)
    offset, count = CHUNK_HEADER_SIZE, 0
    while offset < free:
        if out[offset : offset + 4] != RECORD_MAGIC:
            raise SystemExit(f"no record signature at chunk offset {offset}")
        (size,) = struct.unpack_from("<I", out, offset + 4)
        struct.pack_into("<Q", out, offset + 8, struct.unpack_from("<Q", out, offset + 8)[0] + shift)
        offset += size
        count += 1
    struct.pack_into("<I", out, 52, zlib.crc32(out[CHUNK_HEADER_SIZE:free]))  # event records checksum
    struct.pack_into("<I", out, 124, zlib.crc32(bytes(out[:120]) + bytes(out[128:CHUNK_HEADER_SIZE])))  # header
    return bytes(out), count


def build_large(source: Path, copies: int, target: Path) -> tuple[int, int]:
    """Write `copies` renumbered copies of the source's used chunks to target; (records, chunks)."""
    data = source.read_bytes()
    chunks = _used_chunks(data)
    first_id = struct.unpack_from("<Q", chunks[0], 24)[0]
    last_id = struct.unpack_from("<Q", chunks[-1], 32)[0]
    per_copy = last_id - first_id + 1
    total_chunks = len(chunks) * copies
    if total_chunks > 0xFFFF:
        raise SystemExit(f"{total_chunks} chunks do not fit the header's 16-bit chunk count")
    records = 0
    with target.open("wb") as out:
        out.write(b"\x00" * HEADER_BLOCK_SIZE)
        for copy in range(copies):
            for chunk in chunks:
                shifted, count = _shifted_chunk(chunk, copy * per_copy)
                out.write(shifted)
                records += count
        header = bytearray(data[:HEADER_BLOCK_SIZE])
        struct.pack_into("<QQQ", header, 8, 0, total_chunks - 1, first_id + records)  # first/last chunk, next ID
        struct.pack_into("<H", header, 42, total_chunks)
        struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
        out.seek(0)
        out.write(header)
    if records != per_copy * copies:
        raise SystemExit(f"built {records} records, expected {per_copy * copies}: the source's IDs have gaps")
    return records, total_chunks


# ---------------------------------------------------------------- the implementations (child side)

# Each takes the path and returns a function that makes one full pass and returns the records it read;
# the imports happen before, so no timed pass pays for them.


def _run_summarize(path: str) -> Callable[[], int]:
    sys.path.insert(0, str(ROOT))
    from collectors.parsers.evtx_summary import summarize_evtx

    def run() -> int:
        summary = summarize_evtx(path)
        if summary.errors:
            raise SystemExit(f"summarize_evtx reported errors: {summary.errors[:3]}")
        return summary.records

    return run


def _run_evtx_records(path: str) -> Callable[[], int]:
    from evtx import PyEvtxParser

    def run() -> int:
        n = 0
        for _ in PyEvtxParser(path).records():
            n += 1
        return n

    return run


def _run_evtx_json(path: str) -> Callable[[], int]:
    from evtx import PyEvtxParser

    def run() -> int:
        n = 0
        for _ in PyEvtxParser(path).records_json():
            n += 1
        return n

    return run


def _run_evtx_json_loads(path: str) -> Callable[[], int]:
    from evtx import PyEvtxParser

    def run() -> int:
        n = 0
        for raw in PyEvtxParser(path).records_json():
            json.loads(raw["data"])
            n += 1
        return n

    return run


def _run_pyevtx(path: str) -> Callable[[], int]:
    import xml.etree.ElementTree as ET

    from Evtx.Evtx import Evtx

    event_id_path = "{0}System/{0}EventID".format("{http://schemas.microsoft.com/win/2004/08/events/event}")

    def run() -> int:
        n = 0
        with Evtx(path) as log:
            for record in log.records():
                int(ET.fromstring(record.xml()).find(event_id_path).text)
                n += 1
        return n

    return run


def _run_baseline(path: str) -> Callable[[], int]:
    return lambda: 0


IMPLEMENTATIONS = {
    "summarize": ("summarize_evtx (auditpack)", _run_summarize),
    "evtx-records": ("evtx records() (raw XML)", _run_evtx_records),
    "evtx-json": ("evtx records_json() (raw)", _run_evtx_json),
    "evtx-json-loads": ("records_json() + json.loads", _run_evtx_json_loads),
    "pyevtx": ("python-evtx, XML + EventID", _run_pyevtx),
    "baseline": ("interpreter only, no work", _run_baseline),
}


def _peak_rss_kb() -> tuple[int, int]:
    """ru_maxrss, and VmHWM of this process image (which, unlike ru_maxrss, does not keep the parent's peak)."""
    hwm = next(
        (int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:")), -1
    )
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, hwm


def _child(impl: str, path: str, repeat: int, traced: bool) -> None:
    """Run one implementation `repeat` times in this process; print one JSON line."""
    run = IMPLEMENTATIONS[impl][1](path)
    if traced:
        import tracemalloc

        tracemalloc.start()
        records = run()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(json.dumps({"records": records, "tracemalloc_peak": peak}))
        return
    times, cpu, records = [], [], None
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_SELF)
        began = time.perf_counter()
        count = run()
        times.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if records is not None and count != records:
            raise SystemExit(f"{impl}: {count} records in one pass, {records} in another")
        records = count
    best = min(range(repeat), key=times.__getitem__)
    maxrss, hwm = _peak_rss_kb()
    print(
        json.dumps(
            {
                "records": records,
                "times": times,
                "best": times[best],
                "cpu_of_best": cpu[best],
                "maxrss_kb": maxrss,
                "vmhwm_kb": hwm,
            }
        )
    )


# ---------------------------------------------------------------- the parent

# Linux carries ru_maxrss over exec: a child exec'd straight from this process starts with this process's peak.
# A shell in between forks the child from its own small image, and does not exec it (a command is left after it).
CLEAN_START = ["/bin/sh", "-c", '"$@"; exit $?', "sh"]


def _spawn(impl: str, path: Path, repeat: int, traced: bool = False) -> dict:
    output = _helper("--child", impl, str(path), "--repeat", str(repeat), *(["--traced"] if traced else []))
    return json.loads(output.strip().splitlines()[-1])


def _pyevtx_available() -> bool:
    import importlib.util  # not imported here: the parent stays small, see _spawn

    return importlib.util.find_spec("Evtx") is not None


def _verify(path: Path, expected: int, chunks: int, with_pyevtx: bool) -> None:
    """Both parsers read exactly records 1..expected from the built file; its checksums hold. Runs in a child."""
    from evtx import PyEvtxParser

    ids = [r["event_record_id"] for r in PyEvtxParser(str(path)).records()]
    if ids != list(range(1, expected + 1)):
        raise SystemExit(f"evtx read {len(ids)} records from {path.name}, expected IDs 1..{expected}")
    print(f"evtx reads {len(ids):,} records, IDs 1..{ids[-1]:,} in order")
    if not with_pyevtx:
        return
    from Evtx.Evtx import Evtx

    with Evtx(str(path)) as log:
        header = log.get_file_header()
        if not header.verify():
            raise SystemExit("python-evtx: file header fails its checks")
        bad, out_of_order, n = 0, 0, 0
        for chunk in log.chunks():
            bad += not chunk.verify()
            for record in chunk.records():
                n += 1
                out_of_order += record.record_num() != n
        if bad or out_of_order or n != expected or header.chunk_count() != chunks:
            raise SystemExit(
                f"python-evtx: {n} records ({out_of_order} not numbered in order), {bad} chunks failing "
                f"verify(), header says {header.chunk_count()} chunks; expected {expected} records in "
                f"{chunks} chunks"
            )
    print(f"python-evtx reads {n:,} records, IDs 1..{n:,} in order; header and all {chunks:,} chunk checksums verify")


def _helper(*args: str) -> str:
    command = [*CLEAN_START, sys.executable, str(Path(__file__).resolve()), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{args[0]} failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    return done.stdout


def _build(source: Path, copies: int, target: Path) -> tuple[int, int]:
    built = json.loads(_helper("--source", str(source), "--build", str(copies), str(target)))
    return built["records"], built["chunks"]


def _check(path: Path, records: int, chunks: int) -> None:
    for line in _helper("--verify", str(path), str(records), str(chunks)).splitlines():
        print("  " + line)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _row(label: str, result: dict) -> str:
    rate = result["records"] / result["best"]
    runs = ", ".join(f"{t:.2f}" for t in result["times"])
    return (
        f"{label:<30} {result['records']:>9,} rec  best {result['best']:8.2f} s  {rate:>9,.0f} rec/s  "
        f"cpu {result['cpu_of_best']:7.2f} s  peak RSS {result['maxrss_kb'] / 1024:6.1f} MB "
        f"(VmHWM {result['vmhwm_kb'] / 1024:.1f})  (runs: {runs})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=100, help="copies of the source's chunks in the large file")
    parser.add_argument(
        "--pyevtx-copies",
        type=int,
        default=1,
        help="copies in the smaller file python-evtx is timed on (it renders under 100 records/s); 0 = the large file",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--source", type=Path, default=CORPUS)
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verify", nargs=3, metavar=("PATH", "RECORDS", "CHUNKS"), help=argparse.SUPPRESS)
    parser.add_argument("--build", nargs=2, metavar=("COPIES", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        records, chunks = build_large(args.source, int(args.build[0]), Path(args.build[1]))
        print(json.dumps({"records": records, "chunks": chunks}))
        return
    if args.verify:
        _verify(Path(args.verify[0]), int(args.verify[1]), int(args.verify[2]), _pyevtx_available())
        return
    if args.child:
        _child(args.child[0], args.child[1], args.repeat, args.traced)
        return

    python = os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else sys.executable
    print("$ " + shlex.join([python, os.path.relpath(Path(__file__).resolve())] + sys.argv[1:]))
    from importlib.metadata import version

    with_pyevtx = _pyevtx_available()
    print(
        f"python {sys.version.split()[0]}, evtx {version('evtx')}, "
        f"python-evtx {version('python-evtx') if with_pyevtx else 'not installed'}, {os.cpu_count()} CPUs; "
        f"best of {args.repeat}, each implementation in its own child process; load average at start {_load()}"
    )
    with tempfile.TemporaryDirectory(prefix="bench_evtx_") as tmp:
        big = Path(tmp) / "large.evtx"
        began = time.perf_counter()
        records, chunks = _build(args.source, args.copies, big)
        print(
            f"input: {args.source.name} ({args.source.stat().st_size:,} bytes) x{args.copies} -> {records:,} records, "
            f"{chunks:,} chunks, {big.stat().st_size / 1e6:.1f} MB (built in {time.perf_counter() - began:.1f} s)"
        )
        _check(big, records, chunks)

        results = {}
        for impl in ("baseline", "summarize", "evtx-records", "evtx-json", "evtx-json-loads"):
            results[impl] = _spawn(impl, big, args.repeat)
            if impl == "summarize" and results[impl]["records"] != records:
                raise SystemExit(f"summarize_evtx counted {results[impl]['records']} records, expected {records}")
            print(_row(IMPLEMENTATIONS[impl][0], results[impl]))

        if with_pyevtx:
            small = big
            if args.pyevtx_copies:
                small = Path(tmp) / "slice.evtx"
                small_records, small_chunks = _build(args.source, args.pyevtx_copies, small)
                print(
                    f"python-evtx is timed on a slice, as it renders under 100 records/s: x{args.pyevtx_copies} -> "
                    f"{small_records:,} records, {small_chunks:,} chunks, {small.stat().st_size / 1e6:.1f} MB "
                    f"(same records as the large file, so records/s compare; its peak RSS is for the slice)"
                )
                _check(small, small_records, small_chunks)
            results["pyevtx"] = _spawn("pyevtx", small, args.repeat)
            print(_row(IMPLEMENTATIONS["pyevtx"][0], results["pyevtx"]))
        else:
            print(PYEVTX_MISSING)

        traced = _spawn("summarize", big, 1, traced=True)
        print(
            f"summarize_evtx tracemalloc peak (Python heap while summarising, imports excluded; separate pass): "
            f"{traced['tracemalloc_peak'] / 1e6:.1f} MB"
        )
        original = _spawn("summarize", args.source, 1)
        print(
            f"summarize_evtx on the original {original['records']:,}-record file: peak RSS "
            f"{original['maxrss_kb'] / 1024:.1f} MB, against {results['summarize']['maxrss_kb'] / 1024:.1f} MB on "
            f"the {records:,}-record file"
        )
        print(f"parent process (starts the children): peak RSS {_peak_rss_kb()[0] / 1024:.1f} MB")

    print(
        f"load average at end {_load()} ({os.cpu_count()} CPUs; a row's wall time above its CPU time means it "
        f"waited for a CPU, CPU time above wall time that it ran threads in parallel)"
    )
    rate = {k: v["records"] / v["best"] for k, v in results.items() if k != "baseline"}
    print(
        "ratios (records/s of summarize_evtx divided by the other's"
        + (", python-evtx's on its slice):" if with_pyevtx and args.pyevtx_copies else "):")
    )
    for impl in ("evtx-records", "evtx-json", "evtx-json-loads", "pyevtx"):
        if impl in rate:
            print(f"  summarize_evtx / {IMPLEMENTATIONS[impl][0]:<30} {rate['summarize'] / rate[impl]:6.2f}")
    if "pyevtx" not in rate:
        print("  summarize_evtx / python-evtx: skipped (python-evtx is not installed)")


if __name__ == "__main__":
    main()
