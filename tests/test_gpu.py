"""The CUDA path: ``--device auto`` picks and announces the GPU, the torch backend runs under
bf16 autocast there, CPU-only modes are refused on it, and the Ray engine asks for one GPU per
actor. Tests marked ``gpu`` run wherever a CUDA GPU is visible and skip elsewhere."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from click.testing import CliRunner

from nli_check.errors import NLICheckError


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


needs_cuda = pytest.mark.skipif(not _cuda(), reason="no CUDA GPU visible")
PAIRS = [
    ("Russian troops are leaving the border.", "Troops are withdrawing."),
    ("Wallace saw no evidence of withdrawal.", "Russia is withdrawing its troops."),
    ("Bananas are a good source of potassium.", "The harvest was good."),
]


@pytest.fixture()
def fresh_announcements(monkeypatch):
    """Forget which devices were announced, so this test sees the announcement again."""
    import nli_check.devices

    monkeypatch.setattr(nli_check.devices, "_ANNOUNCED", set())


def test_auto_on_a_machine_without_cuda_says_so(fresh_announcements, caplog):
    if _cuda():
        pytest.skip("a CUDA GPU is visible")
    from nli_check.devices import resolve_device

    with caplog.at_level(logging.INFO, logger="nli_check.devices"):
        assert resolve_device("auto").type == "cpu"
    assert caplog.messages == ["Using cpu (no CUDA GPU visible)"]


@pytest.mark.parametrize("device, gpus, actor", [("cuda", 1.0, "cuda"), ("cuda:1", 1.0, "cuda"), ("cpu", 0.0, "cpu")])
def test_ray_asks_for_one_gpu_per_actor(device, gpus, actor):
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'nli-check[ray]'")
    from nli_check.scan.ray_engine import _actor_device, _gpus

    assert _gpus(device) == gpus
    assert _actor_device(device) == actor  # inside an actor its one GPU is cuda:0


@pytest.mark.gpu
@needs_cuda
def test_auto_picks_and_announces_the_gpu(fresh_announcements, caplog):
    import torch

    from nli_check.devices import resolve_device

    with caplog.at_level(logging.INFO, logger="nli_check.devices"):
        device = resolve_device("auto")
        resolve_device("auto")
    assert device.type == "cuda"
    assert caplog.messages == [f"Using {device} ({torch.cuda.get_device_name(device)})"]  # once


@pytest.mark.gpu
@needs_cuda
def test_cli_auto_runs_on_cuda_and_says_so(tiny_model_dir, tmp_path, fresh_announcements):
    from nli_check.cli import cli

    (tmp_path / "draft.txt").write_text("Russia is withdrawing its troops from the border.\n")
    (tmp_path / "wire.txt").write_text("Wallace saw no evidence that troops were withdrawing.\n")
    result = CliRunner().invoke(cli, [
        "check", str(tmp_path / "draft.txt"), "-e", str(tmp_path / "wire.txt"), "--model", str(tiny_model_dir),
        "--device", "auto", "--min-similarity", "0", "--show", "all", "--threshold", "0", "-f", "json",
    ])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["settings"]["device"].startswith("cuda")
    assert any(line.startswith("Using cuda") for line in result.stderr.splitlines())


@pytest.mark.gpu
@needs_cuda
def test_torch_backend_runs_under_bf16_autocast_on_cuda(tiny_model_dir):
    import torch

    from nli_check.nli import NLIModel

    gpu = NLIModel(tiny_model_dir, device="cuda", backend="torch", quantize=None, max_length=64)
    cpu = NLIModel(tiny_model_dir, device="cpu", backend="torch", quantize=None, max_length=64)
    assert gpu.device.type == "cuda" and next(gpu.model.parameters()).dtype == torch.float32
    dtypes = []
    hook = gpu.model.classifier.register_forward_hook(lambda module, args, out: dtypes.append(out.dtype))
    try:
        probs = gpu.predict_proba(PAIRS)
    finally:
        hook.remove()
    assert dtypes and set(dtypes) == {torch.bfloat16}
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs, cpu.predict_proba(PAIRS), atol=0.02)


@pytest.mark.gpu
@needs_cuda
def test_cpu_only_modes_are_refused_on_cuda(tiny_model_dir):
    from nli_check.nli import NLIModel

    with pytest.raises(NLICheckError, match="int8 runs on the CPU only"):
        NLIModel(tiny_model_dir, device="cuda", backend="torch", quantize="int8")
    with pytest.raises(NLICheckError, match="onnx runs on the CPU only"):
        NLIModel(tiny_model_dir, device="cuda", backend="onnx", quantize=None)


@pytest.mark.gpu
@pytest.mark.ray
@needs_cuda
def test_ray_scan_runs_its_actors_on_the_gpu(tmp_path, tiny_model_dir):
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'nli-check[ray]'")
    from nli_check.scan import ScanConfig, scan

    archive = tmp_path / "a.jsonl"
    archive.write_text("".join(
        json.dumps({"id": f"n{i}", "text": text}) + "\n"
        for i, text in enumerate(["The factory in Ardenne will close next year.",
                                  "The factory in Ardenne will stay open next year."])
    ))
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    try:
        summary = scan(ScanConfig(archives=(str(archive),), output=str(tmp_path / "out"), model=str(tiny_model_dir),
                                  store_dir=str(tmp_path / "store"), device="cuda", engine="ray", threshold=0.0))
        # One GPU in the cluster: actors that asked for more would never be scheduled.
        assert ray.cluster_resources().get("GPU") == 1.0
    finally:
        ray.shutdown()
    assert summary["models"]["device"] == "cuda"
    assert summary["candidate_pairs"] == summary["pairs_classified"] == 1
