"""``grove-cli``: collection admin, bulk import, queries and snapshots from the terminal.

Every command talks to one server (``--url``/``GROVE_URL``, ``--api-key``/``GROVE_API_KEY``),
over gRPC unless ``--rest`` is given. Output is a readable table, or JSON with ``--json``.
Errors print the server's message and exit with status 1 (2 for usage errors).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from . import __version__
from .client import GroveClient
from .errors import GroveError
from .models import QueryResult, Record


def _json_arg(text: str | None, what: str) -> Any:
    """Parse JSON given inline or as ``@path``."""
    if text is None:
        return None
    if text.startswith("@"):
        text = Path(text[1:]).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SystemExit(f"grove-cli: {what} is not valid JSON: {e}") from None


def _out(args: argparse.Namespace, obj: Any, human: str) -> None:
    print(json.dumps(obj, default=_jsonable, indent=None) if args.json else human)


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if hasattr(o, "__dataclass_fields__"):
        return {k: getattr(o, k) for k in o.__dataclass_fields__}
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _client(args: argparse.Namespace) -> GroveClient:
    return GroveClient(
        args.url,
        grpc_port=args.grpc_port,
        transport="rest" if args.rest else args.transport,
        api_key=args.api_key,
        timeout=args.timeout,
    )


# -- collections ------------------------------------------------------------------------------


def cmd_health(c: GroveClient, args: argparse.Namespace) -> int:
    h = c.health()
    _out(args, h, f"grove {h.version} at {c.url}: {'ready' if h.ready else 'NOT ready'}")
    return 0 if h.ready else 1


def cmd_collections_list(c: GroveClient, args: argparse.Namespace) -> int:
    names = c.list_collections()
    _out(args, names, "\n".join(names) if names else "(no collections)")
    return 0


def cmd_collections_info(c: GroveClient, args: argparse.Namespace) -> int:
    i = c.get_collection(args.name)
    fields = ", ".join(f"{f.name}:{f.schema}({f.points})" for f in i.payload_schema.values()) or "none"
    human = (
        f"{i.name}: dim={i.dim} distance={i.distance} status={i.status}\n"
        f"  points={i.points_count} indexed={i.indexed_vectors_count}\n"
        f"  payload indexes: {fields}\n"
        f"  graph: {', '.join(f'{k}={v}' for k, v in sorted(i.hnsw_config.items())) or 'defaults'}"
    )
    _out(args, i, human)
    return 0


def cmd_collections_create(c: GroveClient, args: argparse.Namespace) -> int:
    c.create_collection(
        args.name, args.dim, args.distance, m=args.m, ef_construction=args.ef_construction, gamma=args.gamma, m_beta=args.m_beta
    )
    _out(args, True, f"created {args.name} (dim={args.dim}, {args.distance})")
    return 0


def cmd_collections_delete(c: GroveClient, args: argparse.Namespace) -> int:
    existed = c.delete_collection(args.name)
    _out(args, existed, f"deleted {args.name}" if existed else f"{args.name} did not exist")
    return 0


def cmd_index_create(c: GroveClient, args: argparse.Namespace) -> int:
    c.create_payload_index(args.collection, args.field, args.schema)
    _out(args, True, f"indexed {args.collection}.{args.field} as {args.schema}")
    return 0


def cmd_index_delete(c: GroveClient, args: argparse.Namespace) -> int:
    c.delete_payload_index(args.collection, args.field)
    _out(args, True, f"dropped index {args.collection}.{args.field}")
    return 0


# -- import -----------------------------------------------------------------------------------


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open() as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"grove-cli: {path}:{lineno}: not JSON: {e}") from None


def _progress(total: int, enabled: bool, desc: str) -> Any:
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="pt", unit_scale=True, file=sys.stderr)


def _records_from_jsonl(path: Path, id_field: str, vector_field: str, payload_field: str) -> Iterator[dict[str, Any]]:
    for i, rec in enumerate(_jsonl(path)):
        if vector_field not in rec:
            raise SystemExit(f"grove-cli: {path}: record {i} has no {vector_field!r} field")
        if payload_field in rec:
            payload = rec[payload_field]
        else:  # flat records: every other field is payload
            payload = {k: v for k, v in rec.items() if k not in (id_field, vector_field)}
        yield {"id": rec.get(id_field, i), "vector": rec[vector_field], "payload": payload or None}


def _records_from_npy(path: Path, ids_path: Path | None, payloads_path: Path | None) -> tuple[int, Iterator[dict[str, Any]]]:
    vectors = np.load(path, mmap_mode="r")
    if vectors.ndim != 2:
        raise SystemExit(f"grove-cli: {path}: expected a 2-D array, got shape {vectors.shape}")
    n = vectors.shape[0]
    ids = np.load(ids_path) if ids_path else None
    if ids is not None and len(ids) != n:
        raise SystemExit(f"grove-cli: {ids_path}: {len(ids)} ids for {n} vectors")
    payloads: Iterator[Any] = _jsonl(payloads_path) if payloads_path else itertools.repeat(None)

    def gen() -> Iterator[dict[str, Any]]:
        for i, payload in zip(range(n), payloads):
            yield {"id": int(ids[i]) if ids is not None else i, "vector": np.asarray(vectors[i]), "payload": payload}

    return n, gen()


def cmd_import(c: GroveClient, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if path.suffix == ".npy":
        total, records = _records_from_npy(path, Path(args.ids) if args.ids else None, Path(args.payloads) if args.payloads else None)
        dim = int(np.load(path, mmap_mode="r").shape[1])
    elif path.suffix in (".jsonl", ".ndjson", ".json"):
        total = _count_lines(path)
        records = _records_from_jsonl(path, args.id_field, args.vector_field, args.payload_field)
        first = next(_records_from_jsonl(path, args.id_field, args.vector_field, args.payload_field), None)
        dim = len(first["vector"]) if first else 0
    else:
        raise SystemExit(f"grove-cli: {path}: expected .npy or .jsonl")
    if not c.collection_exists(args.collection):
        if not args.create:
            raise SystemExit(
                f"grove-cli: collection {args.collection!r} does not exist; add --create to create it from "
                f"the file (dim={dim}, --distance {args.distance}), or create it first with "
                f"`grove-cli collections create {args.collection} --dim {dim}`"
            )
        c.create_collection(args.collection, dim, args.distance)
        print(f"created {args.collection} (dim={dim}, {args.distance})", file=sys.stderr)
    bar = _progress(total, not args.no_progress, f"import {args.collection}")
    done = 0
    try:
        while True:
            batch = list(itertools.islice(records, args.batch_size))
            if not batch:
                break
            c.upsert(args.collection, points=batch, batch_size=args.batch_size, wait=not args.no_wait, progress=False)
            done += len(batch)
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    _out(args, {"imported": done}, f"imported {done} points into {args.collection}")
    return 0


# -- reads ------------------------------------------------------------------------------------


def _query_vectors(args: argparse.Namespace) -> np.ndarray:
    if args.vector is not None:
        return np.asarray(_json_arg(args.vector, "--vector"), dtype=np.float32)
    path = Path(args.vector_file)
    arr = np.load(path) if path.suffix == ".npy" else np.asarray(json.loads(path.read_text()), dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[args.row]
    return arr


def _hits_table(r: QueryResult) -> str:
    lines = [f"{'rank':>4}  {'id':>12}  {'score':>10}  payload"]
    for rank, hit in enumerate(r, 1):
        payload = json.dumps(hit.payload, default=_jsonable) if hit.payload is not None else ""
        lines.append(f"{rank:>4}  {hit.id!s:>12}  {hit.score:>10.5f}  {payload}")
    if r.explain is not None:
        e = r.explain
        lines.append(
            f"explain: path={e.path} selectivity={e.selectivity:.4g} ({e.allowed_points}/{e.live_points}) "
            f"ef={e.ef} visited={e.nodes_visited} distances={e.distances_computed}: {e.reason}"
        )
    return "\n".join(lines)


def cmd_query(c: GroveClient, args: argparse.Namespace) -> int:
    r = c.query(
        args.collection,
        _query_vectors(args),
        limit=args.limit,
        filter=_json_arg(args.filter, "--filter"),
        with_payload=not args.no_payload,
        with_vector=args.with_vector,
        hnsw_ef=args.ef,
        exact=args.exact,
        strategy=args.strategy,
        explain=args.explain,
    )
    obj = {"points": [{"id": h.id, "score": h.score, "payload": h.payload} for h in r], "explain": r.explain}
    _out(args, obj, _hits_table(r))
    return 0


def _records_table(points: Sequence[Record]) -> str:
    return "\n".join(f"{p.id!s:>12}  {json.dumps(p.payload, default=_jsonable) if p.payload is not None else ''}" for p in points)


def cmd_scroll(c: GroveClient, args: argparse.Namespace) -> int:
    offset: Any = args.offset
    if offset is not None and offset.isdigit():
        offset = int(offset)
    page = c.scroll(args.collection, filter=_json_arg(args.filter, "--filter"), offset=offset, limit=args.limit)
    obj = {"points": [{"id": p.id, "payload": p.payload} for p in page.points], "next_page_offset": page.next_offset}
    human = _records_table(page.points) + (f"\nnext offset: {page.next_offset}" if page.next_offset is not None else "")
    _out(args, obj, human)
    return 0


def cmd_count(c: GroveClient, args: argparse.Namespace) -> int:
    n = c.count(args.collection, filter=_json_arg(args.filter, "--filter"))
    _out(args, {"count": n}, str(n))
    return 0


def cmd_delete(c: GroveClient, args: argparse.Namespace) -> int:
    ids = [int(x) if x.isdigit() else x for x in args.ids.split(",")] if args.ids else None
    r = c.delete(args.collection, ids, filter=_json_arg(args.filter, "--filter"))
    _out(args, r, f"delete: operation {r.operation_id} {r.status}")
    return 0


# -- snapshots --------------------------------------------------------------------------------


def cmd_snapshot_create(c: GroveClient, args: argparse.Namespace) -> int:
    s = c.create_snapshot(args.collection)
    _out(args, s, f"snapshot {s.name} ({s.size} bytes)")
    return 0


def cmd_snapshot_list(c: GroveClient, args: argparse.Namespace) -> int:
    snaps = c.list_snapshots(args.collection)
    human = "\n".join(f"{s.name}  {s.creation_time or '-'}  {s.size}" for s in snaps) or "(no snapshots)"
    _out(args, snaps, human)
    return 0


def cmd_snapshot_restore(c: GroveClient, args: argparse.Namespace) -> int:
    c.restore_snapshot(args.collection, args.name)
    _out(args, True, f"restored {args.collection} from {args.name}")
    return 0


def cmd_snapshot_download(c: GroveClient, args: argparse.Namespace) -> int:
    dest = args.out or args.name
    n = c.download_snapshot(args.collection, args.name, dest)
    _out(args, {"file": dest, "bytes": n}, f"saved {args.name} to {dest} ({n} bytes)")
    return 0


def cmd_snapshot_upload(c: GroveClient, args: argparse.Namespace) -> int:
    c.upload_snapshot(args.collection, args.file)
    _out(args, True, f"restored {args.collection} from uploaded {args.file}")
    return 0


def cmd_snapshot_delete(c: GroveClient, args: argparse.Namespace) -> int:
    c.delete_snapshot(args.collection, args.name)
    _out(args, True, f"deleted snapshot {args.name}")
    return 0


# -- parser -----------------------------------------------------------------------------------


def _filter_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--filter", help='Qdrant-shaped filter JSON, or @file.json, e.g. \'{"must":[{"key":"cat","match":{"value":"a"}}]}\'')


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    p = argparse.ArgumentParser(prog="grove-cli", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--version", action="version", version=f"grove-cli {__version__}")
    p.add_argument("--url", default=os.environ.get("GROVE_URL", "http://localhost:6333"), help="REST URL [env GROVE_URL]")
    env_port = os.environ.get("GROVE_GRPC_PORT")
    p.add_argument(
        "--grpc-port",
        type=int,
        default=int(env_port) if env_port else None,
        help="gRPC port on the URL's host; default: the URL's port + 1, or 6334 [env GROVE_GRPC_PORT]",
    )
    p.add_argument(
        "--transport",
        choices=("auto", "grpc", "rest"),
        default="auto",
        help="auto: gRPC, or REST with a warning when the gRPC port does not answer (default)",
    )
    p.add_argument("--api-key", default=os.environ.get("GROVE_API_KEY"), help="API key [env GROVE_API_KEY]")
    p.add_argument("--rest", action="store_true", help="use REST instead of gRPC (same as --transport rest)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per call")
    p.add_argument("--json", action="store_true", help="print JSON")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("health", help="server version and readiness").set_defaults(fn=cmd_health)

    col = sub.add_parser("collections", help="list, inspect, create, delete collections").add_subparsers(dest="sub", required=True)
    col.add_parser("list", help="collection names").set_defaults(fn=cmd_collections_list)
    x = col.add_parser("info", help="config, counts, payload indexes")
    x.add_argument("name")
    x.set_defaults(fn=cmd_collections_info)
    x = col.add_parser("create", help="create a collection")
    x.add_argument("name")
    x.add_argument("--dim", type=int, required=True)
    x.add_argument("--distance", default="cosine", choices=["cosine", "dot", "euclid"])
    x.add_argument("--m", type=int, help="M (HNSW neighbours per node)")
    x.add_argument("--ef-construction", type=int)
    x.add_argument("--gamma", type=int, help="ACORN gamma")
    x.add_argument("--m-beta", type=int, help="ACORN M_beta")
    x.set_defaults(fn=cmd_collections_create)
    x = col.add_parser("delete", help="delete a collection and its data")
    x.add_argument("name")
    x.set_defaults(fn=cmd_collections_delete)

    idx = sub.add_parser("index", help="payload field indexes").add_subparsers(dest="sub", required=True)
    x = idx.add_parser("create", help="index a payload field")
    x.add_argument("collection")
    x.add_argument("field")
    x.add_argument("schema", choices=["keyword", "integer", "float", "bool", "datetime"])
    x.set_defaults(fn=cmd_index_create)
    x = idx.add_parser("delete", help="drop a payload field index")
    x.add_argument("collection")
    x.add_argument("field")
    x.set_defaults(fn=cmd_index_delete)

    x = sub.add_parser("import", help="bulk upsert from .jsonl (one point per line) or .npy (+ payload .jsonl)")
    x.add_argument("collection")
    x.add_argument("file", help=".jsonl records or .npy (n, dim) float array")
    x.add_argument("--payloads", help=".jsonl with one payload object per .npy row")
    x.add_argument("--ids", help=".npy of integer ids per .npy row (default 0..n-1)")
    x.add_argument("--id-field", default="id")
    x.add_argument("--vector-field", default="vector")
    x.add_argument("--payload-field", default="payload", help="records without it use their other fields as payload")
    x.add_argument("--batch-size", type=int, default=512)
    x.add_argument("--create", action="store_true", help="create the collection if missing (dim from the data)")
    x.add_argument("--distance", default="cosine", choices=["cosine", "dot", "euclid"])
    x.add_argument("--no-wait", action="store_true", help="do not wait for points to become searchable")
    x.add_argument("--no-progress", action="store_true")
    x.set_defaults(fn=cmd_import)

    x = sub.add_parser("query", help="k nearest points, optionally filtered")
    x.add_argument("collection")
    g = x.add_mutually_exclusive_group(required=True)
    g.add_argument("--vector", help="JSON array")
    g.add_argument("--vector-file", help=".npy or .json vector (or matrix: see --row)")
    x.add_argument("--row", type=int, default=0, help="row of a matrix in --vector-file")
    x.add_argument("--limit", "-k", type=int, default=10)
    _filter_arg(x)
    x.add_argument("--ef", type=int, help="graph search beam width")
    x.add_argument("--exact", action="store_true")
    x.add_argument("--strategy", default="auto", choices=["auto", "exact", "hnsw", "acorn"])
    x.add_argument("--explain", action="store_true", help="show the planner's decision")
    x.add_argument("--no-payload", action="store_true")
    x.add_argument("--with-vector", action="store_true")
    x.set_defaults(fn=cmd_query)

    x = sub.add_parser("scroll", help="page through points in id order")
    x.add_argument("collection")
    _filter_arg(x)
    x.add_argument("--limit", type=int, default=20)
    x.add_argument("--offset", help="start at this id")
    x.set_defaults(fn=cmd_scroll)

    x = sub.add_parser("count", help="exact count, optionally filtered")
    x.add_argument("collection")
    _filter_arg(x)
    x.set_defaults(fn=cmd_count)

    x = sub.add_parser("delete", help="delete points by ids or filter")
    x.add_argument("collection")
    g = x.add_mutually_exclusive_group(required=True)
    g.add_argument("--ids", help="comma-separated ids")
    g.add_argument("--filter", help="filter JSON or @file")
    x.set_defaults(fn=cmd_delete)

    snap = sub.add_parser("snapshot", help="create, list, restore, delete snapshots").add_subparsers(dest="sub", required=True)
    for name, fn, needs_name in (
        ("create", cmd_snapshot_create, False),
        ("list", cmd_snapshot_list, False),
        ("restore", cmd_snapshot_restore, True),
        ("delete", cmd_snapshot_delete, True),
    ):
        x = snap.add_parser(name)
        x.add_argument("collection")
        if needs_name:
            x.add_argument("name", help="snapshot name (from `snapshot list`)")
        x.set_defaults(fn=fn)
    x = snap.add_parser("download", help="save a snapshot archive to a local file")
    x.add_argument("collection")
    x.add_argument("name", help="snapshot name (from `snapshot list`)")
    x.add_argument("--out", help="local file (default: the snapshot name)")
    x.set_defaults(fn=cmd_snapshot_download)
    x = snap.add_parser("upload", help="upload a local archive and restore the collection from it")
    x.add_argument("collection")
    x.add_argument("file", help="archive made by `snapshot download`")
    x.set_defaults(fn=cmd_snapshot_upload)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``grove-cli`` console script."""
    args = build_parser().parse_args(argv)
    try:
        with _client(args) as c:
            return int(args.fn(c, args))
    except GroveError as e:
        print(f"grove-cli: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"grove-cli: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
