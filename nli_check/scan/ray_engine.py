"""The Ray engine: the scan's stages on Ray Data, for a GPU box or a cluster.

Same stages, same files, same results as the local engine (:mod:`nli_check.scan.engine`):

* records are read on the driver (so malformed records are counted the same way) and sent,
  one store shard per block, through ``map_batches``: segmentation as tasks, embedding on an
  actor pool (one GPU per actor with ``--device cuda``); the driver commits each shard to the
  same on-disk store as soon as it comes back;
* the neighbour search runs on the driver over the store's memory-mapped embeddings (faiss
  or exact blocked search, as locally);
* the candidate pairs go, one output shard per block, through an NLI actor pool; the driver
  writes each shard's conflicts with the same atomic writer, so a killed run resumes.

Blocks are sent in windows of a few shards, so the object store holds a bounded amount.
The models are loaded from the same paths on every worker: on a cluster, the model
directories (and the store and output directories) must be on a shared filesystem.
"""

from __future__ import annotations

import itertools

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.scan.config import ScanConfig
from nli_check.scan.engine import ScanRun, _progress
from nli_check.scan.stages import classify_rows, pair_inputs, segment_records

#: Sentences (store stage) or pairs (NLI stage) sent to Ray per window.
WINDOW_ITEMS = 65536
_VERDICT_COLUMNS = ("label", "confidence", "view", "p_contradiction", "p_entailment", "p_neutral")


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise NLICheckError("--engine ray needs Ray Data: pip install 'nli-check[ray]'") from exc
    return ray


def connect(address: str | None) -> bool:
    """Join (or start) Ray; returns True when this call started it (and should shut it down)."""
    ray = _import_ray()
    if ray.is_initialized():
        return False
    kwargs = {"include_dashboard": False, "log_to_driver": False, "ignore_reinit_error": True}
    try:
        if address in (None, "", "local"):
            ray.init(**kwargs)
        else:
            ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise NLICheckError(
            f"cannot connect to Ray at {address!r} ({str(exc).splitlines()[0]}): "
            "check --ray-address, or leave it out to start Ray here"
        ) from exc
    return True


# --------------------------------------------------------------------------- Ray callables
def _segment_batch(batch):
    """map_batches task: record rows -> sentence rows (with their shard number)."""
    import pyarrow as pa

    from nli_check.scan.store import sentence_schema

    records = batch.to_pylist()
    rows = segment_records(records)
    shard_of = {r["article"]: r["shard"] for r in records}
    for row in rows:
        row["shard"] = shard_of[row["article"]]
    schema = sentence_schema().remove(0).append(pa.field("shard", pa.int64()))
    return pa.Table.from_pylist(rows, schema=schema)


class _EmbedActor:
    def __init__(self, model: str | None, device: str, batch_size: int, backend: str = "auto") -> None:
        from nli_check.embed import Embedder

        self.embedder = Embedder(model, device=device, batch_size=batch_size, backend=backend)

    def __call__(self, batch):
        import pyarrow as pa

        vectors = self.embedder.embed(batch.column("text").to_pylist())
        flat = pa.array(vectors.reshape(-1), type=pa.float32())
        column = pa.FixedSizeListArray.from_arrays(flat, self.embedder.dimension)
        return batch.append_column("embedding", column)


class _NLIActor:
    def __init__(
        self,
        model: str,
        device: str,
        max_length: int | None,
        batch_size: int,
        max_tokens: int | None,
        quantize: str | None = "auto",
        backend: str = "auto",
    ) -> None:
        from nli_check.nli import NLIModel

        self.model = NLIModel(
            model, device=device, max_length=max_length, backend=backend, quantize=quantize
        )
        self.batch_size = batch_size
        self.max_tokens = max_tokens

    def __call__(self, batch):
        import pyarrow as pa

        rows = batch.to_pylist()
        verdicts = classify_rows(
            self.model, rows, batch_size=self.batch_size, max_tokens=self.max_tokens
        )
        columns = {"shard": batch.column("shard"), "pos": batch.column("pos")}
        for name in _VERDICT_COLUMNS:
            columns[name] = [v[name] for v in verdicts]
        return pa.table(columns)


# --------------------------------------------------------------------------- engine
def _gpus(device: str) -> float:
    import ray

    if device.startswith("cuda"):
        return 1.0
    if device == "auto":
        return 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
    return 0.0


def _actor_device(device: str) -> str:
    # Inside an actor Ray exposes only its own GPU(s), as cuda:0.
    return "cuda" if device.startswith("cuda") else device


def _collect(ds) -> list:
    return list(ds.iter_batches(batch_size=None, batch_format="pyarrow"))


def _build_store(run: ScanRun) -> None:
    import pyarrow as pa
    import ray
    from ray.data import ActorPoolStrategy

    config = run.config
    gpus = _gpus(config.device)
    window = max(1, WINDOW_ITEMS // (config.shard_records * 10))
    shards = run.record_shards()
    bar = _progress(
        run.show_progress, None, "Segment+embed", "record", initial=run.store.num_records
    )
    try:
        while True:
            batch = list(itertools.islice(shards, window))
            if not batch:
                return
            refs = []
            for shard, records, _, _ in batch:
                table = (
                    pa.Table.from_pylist([dict(r, shard=shard) for r in records])
                    if records
                    else None
                )
                if table is not None:
                    refs.append(ray.put(table))
            tables = []
            with run.timer.stage("segment+embed", "sentences") as entry:
                if refs:
                    ds = ray.data.from_arrow_refs(refs)
                    ds = ds.map_batches(_segment_batch, batch_size=None, batch_format="pyarrow")
                    ds = ds.map_batches(
                        _EmbedActor,
                        batch_size=None,
                        batch_format="pyarrow",
                        fn_constructor_kwargs={
                            "model": config.embedding_model,
                            "device": _actor_device(config.device),
                            "batch_size": config.batch_size,
                            "backend": config.backend,
                        },
                        compute=ActorPoolStrategy(size=config.ray_actors),
                        num_gpus=gpus,
                    )
                    tables = [t for t in _collect(ds) if len(t)]
                entry["items"] += sum(len(t) for t in tables)
            result = pa.concat_tables(tables) if tables else None
            shard_col = result.column("shard").to_numpy() if result is not None else np.zeros(0)
            for shard, records, items, malformed in batch:
                if result is not None:
                    part = result.filter(pa.array(shard_col == shard))
                    dim = part.schema.field("embedding").type.list_size
                    vectors = (
                        part.column("embedding")
                        .combine_chunks()
                        .values.to_numpy(zero_copy_only=False)
                        .reshape(-1, dim)
                    )
                    rows = part.drop_columns(["shard", "embedding"]).to_pylist()
                else:
                    rows, vectors = [], np.zeros((0, 0), dtype=np.float32)
                run.commit_store_shard(shard, rows, vectors, items, len(records), malformed)
                bar.update(len(records))
    finally:
        bar.close()


def _classify(run: ScanRun, pairs: np.ndarray) -> None:
    import pyarrow as pa
    import ray
    from ray.data import ActorPoolStrategy

    config = run.config
    todo = run.pair_shards(pairs)
    if not todo:
        return
    gpus = _gpus(config.device)
    window = max(1, WINDOW_ITEMS // config.shard_pairs)
    bar = _progress(
        run.show_progress,
        len(pairs),
        "NLI",
        "pair",
        initial=len(pairs) - sum(len(run.shard_slice(pairs, s)) for s in todo),
    )
    try:
        for start in range(0, len(todo), window):
            shards = todo[start : start + window]
            inputs = {s: pair_inputs(run.store, run.shard_slice(pairs, s)) for s in shards}
            refs = [
                ray.put(pa.Table.from_pylist([dict(r, shard=s, pos=k) for k, r in enumerate(rows)]))
                for s, rows in inputs.items()
                if rows
            ]
            with run.timer.stage("nli", "pairs") as entry:
                ds = ray.data.from_arrow_refs(refs).map_batches(
                    _NLIActor,
                    batch_size=None,
                    batch_format="pyarrow",
                    fn_constructor_kwargs={
                        "model": config.model_name(),
                        "device": _actor_device(config.device),
                        "max_length": config.max_length,
                        "batch_size": config.batch_size,
                        "max_tokens": config.max_tokens,
                        "quantize": config.quantize,
                        "backend": config.backend,
                    },
                    compute=ActorPoolStrategy(size=config.ray_actors),
                    num_gpus=gpus,
                )
                verdicts: dict[int, list] = {s: [None] * len(rows) for s, rows in inputs.items()}
                for table in _collect(ds):
                    for row in table.to_pylist():
                        verdicts[row["shard"]][row["pos"]] = {c: row[c] for c in _VERDICT_COLUMNS}
                entry["items"] += sum(len(rows) for rows in inputs.values())
            for shard in shards:
                if any(v is None for v in verdicts[shard]):
                    raise RuntimeError(f"Ray returned an incomplete result for pair shard {shard}")
                run.write_shard(shard, inputs[shard], verdicts[shard])
                bar.update(len(inputs[shard]))
    finally:
        bar.close()


def scan_ray(config: ScanConfig, *, show_progress: bool = False) -> dict:
    """:func:`nli_check.scan.scan` on Ray Data; same output as the local engine."""
    ray = _import_ray()
    run = ScanRun(config, show_progress)
    started = connect(config.ray_address)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = show_progress
        if not run.store.complete:
            _build_store(run)
            run.finish_store()
        run.check_strict(run.store.malformed)
        pairs = run.search()
        _classify(run, pairs)
        device = config.device if _gpus(config.device) == 0 else "cuda"
        return run.finish(pairs, "ray", device)
    finally:
        if started:
            ray.shutdown()
