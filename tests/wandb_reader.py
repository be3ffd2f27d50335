"""Reads the records of an offline wandb run (``run-*.wandb``) back, for the tests.

The file is a LevelDB-style log: a 7-byte header (``:W&B``, magic, version), then 32 KiB
blocks of chunks, each with a 7-byte header (crc32, length, type: 1 full, 2 first,
3 middle, 4 last). Each reassembled record is a ``wandb_internal_pb2.Record``.
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2

# A ``wandb_internal_pb2.Record``: the generated protobuf module has no type stubs, so its
# classes are invisible to type checkers.
Record = Any

BLOCK = 32 * 1024
HEADER = 7


def read_records(path: Path, timeout: float = 30.0) -> list[Record]:
    """Every record of a finished run. wandb's service process may still be writing the
    file for a moment after the run's ``finish()`` returned, so this waits (up to
    ``timeout`` seconds) for the run's last record, ``exit``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            records = _parse(path)
        except Exception:  # a record cut in the middle of being written
            records = []
        if any(r.WhichOneof("record_type") == "exit" for r in records) or time.monotonic() > deadline:
            return records if records else _parse(path)
        time.sleep(0.1)


def _parse(path: Path) -> list[Record]:
    raw = Path(path).read_bytes()
    assert raw[:4] == b":W&B", f"{path} is not a wandb run file"
    records, pending, position = [], b"", HEADER
    while position + HEADER <= len(raw):
        left_in_block = BLOCK - position % BLOCK
        if left_in_block < HEADER:  # block trailer padding
            position += left_in_block
            continue
        _crc, length, kind = struct.unpack("<IHB", raw[position : position + HEADER])
        if length == 0 and kind == 0:
            break
        chunk = raw[position + HEADER : position + HEADER + length]
        position += HEADER + length
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()  # type: ignore[attr-defined]  # generated: no stub declares it
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def logged_history(path: Path) -> list[dict]:
    """Every ``run.log`` call as a dict of key -> decoded JSON value."""
    rows = []
    for record in read_records(path):
        if record.WhichOneof("record_type") == "history":
            rows.append(
                {(item.key or "/".join(item.nested_key)): json.loads(item.value_json) for item in record.history.item}
            )
    return rows


def logged_config(path: Path) -> dict:
    """The run's config: set at ``wandb.init`` (run record), updated later (config records)."""
    config = {}
    for record in read_records(path):
        kind = record.WhichOneof("record_type")
        updates = record.run.config.update if kind == "run" else record.config.update if kind == "config" else []
        for item in updates:
            config[item.key] = json.loads(item.value_json)
    return config


def logged_summary(path: Path) -> dict:
    summary = {}
    for record in read_records(path):
        if record.WhichOneof("record_type") == "summary":
            for item in record.summary.update:
                summary[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return summary


def logged_files(path: Path) -> list[str]:
    """The run files wandb was told to save (``media/...``), relative to ``files/``."""
    return [
        item.path
        for record in read_records(path)
        if record.WhichOneof("record_type") == "files"
        for item in record.files.files
    ]


def logged_artifacts(path: Path) -> list[dict]:
    """Every ``log_artifact``: name, type, aliases, metadata, and its files (``path``,
    ``digest``: base64 MD5, ``size``, ``local_path``: where ``wandb sync`` reads it)."""
    artifacts = []
    for record in read_records(path):
        if record.WhichOneof("record_type") == "artifact":
            artifact = record.artifact
            artifacts.append(
                {
                    "name": artifact.name,
                    "type": artifact.type,
                    "aliases": list(artifact.aliases),
                    "metadata": json.loads(artifact.metadata or "{}"),
                    "files": [
                        {"path": entry.path, "digest": entry.digest, "size": entry.size, "local_path": entry.local_path}
                        for entry in artifact.manifest.contents
                    ],
                }
            )
    return artifacts
