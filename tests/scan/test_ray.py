"""``scan --engine ray`` on a real local Ray instance gives the local engine's output."""

from __future__ import annotations

import pytest

from nli_check.scan import read_conflicts, scan

pytestmark = pytest.mark.ray

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'nli-check[ray]'")
pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install 'ray[data]'")

from .helpers import config, norm  # noqa: E402


@pytest.fixture(scope="module")
def ray_session():
    """One small local Ray instance for the module (start-up is slow on two cores)."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()


def test_ray_engine_matches_local_engine(
    ray_session, baseline, archive, contra_model_dir, tmp_path
):
    out, local, _ = baseline
    # A store of its own, so the Ray run segments and embeds rather than reusing the local store.
    summary = scan(
        config(archive, tmp_path / "out", contra_model_dir, tmp_path / "store", engine="ray")
    )
    assert summary["run"]["engine"] == "ray" and not summary["run"]["store_reused"]
    assert summary["throughput"]["segment+embed"]["items"] == local["sentences"]
    for name in (
        "records",
        "sentences",
        "malformed",
        "candidate_pairs",
        "labels",
        "conflicts",
        "shards",
    ):
        assert summary[name] == local[name], name
    assert norm(read_conflicts(tmp_path / "out")) == norm(read_conflicts(out))
    assert sorted(p.name for p in (tmp_path / "out" / "conflicts").iterdir()) == sorted(
        p.name for p in (out / "conflicts").iterdir()
    )
    # A rerun into the same directory finds every shard done and changes nothing.
    again = scan(
        config(archive, tmp_path / "out", contra_model_dir, tmp_path / "store", engine="ray")
    )
    assert (
        again["run"]["resumed"]
        and again["run"]["store_reused"]
        and "nli" not in again["throughput"]
    )
    assert norm(read_conflicts(tmp_path / "out")) == norm(read_conflicts(out))
