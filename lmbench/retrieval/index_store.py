"""Saving and loading a ``VectorIndex`` without pickle: ``<path>.npz`` holds the vectors (one
uncompressed float32 array, so it can be memory-mapped), ``<path>.json`` the ids, metadata,
passages and settings.

A damaged or mismatched pair is reported with one ``ConfigError`` naming the file and what is
wrong; nothing is half-loaded.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lmbench.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

    from lmbench.retrieval.index import VectorIndex

__all__ = ["FORMAT_VERSION", "MMAP_THRESHOLD", "load_index", "save_index"]

FORMAT_VERSION = 1
#: ``load(mmap=None)`` maps vector files larger than this.
MMAP_THRESHOLD = 256 * 1024 * 1024


def _paths(path: Path) -> tuple[Path, Path]:
    base = path.with_suffix("") if path.suffix in (".npz", ".json") else path
    return base.with_name(base.name + ".npz"), base.with_name(base.name + ".json")


def _json_ids(ids: list[Any]) -> list[Any]:
    for item in ids:
        if not isinstance(item, (str, int)) or isinstance(item, bool):
            raise ConfigError(
                f"cannot save id {item!r} ({type(item).__name__}): saved indexes take str or int ids"
            )
    return ids


def save_index(index: VectorIndex, path: Path) -> Path:
    import numpy as np

    npz_path, json_path = _paths(path)
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    state = index._state()
    state["ids"] = _json_ids(state["ids"])
    state["version"] = FORMAT_VERSION
    state["count"] = len(index)
    try:
        text = json.dumps(state, ensure_ascii=False)
    except TypeError as exc:
        raise ConfigError(
            f"cannot save the index metadata as JSON ({exc}); keep metadata JSON-able"
        ) from None
    tmp_npz = npz_path.with_name(npz_path.name + ".tmp")
    with open(tmp_npz, "wb") as handle:
        np.savez(handle, vectors=np.ascontiguousarray(index.vectors))
    tmp_json = json_path.with_name(json_path.name + ".tmp")
    tmp_json.write_text(text, encoding="utf-8")
    tmp_npz.replace(npz_path)
    tmp_json.replace(json_path)
    return npz_path


def _mapped_vectors(npz_path: Path) -> np.ndarray:
    """The ``vectors`` member of an uncompressed ``.npz``, memory-mapped read-only."""
    import numpy as np

    with zipfile.ZipFile(npz_path) as archive:
        info = archive.getinfo("vectors.npy")
        if info.compress_type != zipfile.ZIP_STORED:
            raise ConfigError(
                f"{npz_path}: compressed vectors cannot be memory-mapped; load with mmap=False"
            )
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(member)
            header_size = member.tell()
    with open(npz_path, "rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
        name_len = int.from_bytes(local[26:28], "little")
        extra_len = int.from_bytes(local[28:30], "little")
    offset = info.header_offset + 30 + name_len + extra_len + header_size
    return np.memmap(
        npz_path, dtype=dtype, mode="r", shape=shape, offset=offset, order="F" if fortran else "C"
    )


def load_index(cls: type[VectorIndex], path: Path, *, mmap: bool | None) -> VectorIndex:
    import numpy as np

    npz_path, json_path = _paths(path)
    for file in (npz_path, json_path):
        if not file.exists():
            raise ConfigError(f"no saved index at {file}: save one with index.save({str(path)!r})")
    try:
        state = json.loads(json_path.read_text(encoding="utf-8"))
        if mmap is None:
            mmap = npz_path.stat().st_size > MMAP_THRESHOLD
        if mmap:
            vectors = _mapped_vectors(npz_path)
        else:
            with np.load(npz_path, allow_pickle=False) as data:
                vectors = np.ascontiguousarray(data["vectors"], dtype=np.float32)
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise ConfigError(
            f"the saved index at {npz_path} is damaged ({exc}); save it again"
        ) from None
    if state.get("version") != FORMAT_VERSION:
        raise ConfigError(
            f"{json_path}: index format {state.get('version')!r}, expected {FORMAT_VERSION}"
        )
    count, dim = state.get("count"), state.get("dim")
    if vectors.ndim != 2 or vectors.shape != (count, dim) or vectors.dtype != np.float32:
        raise ConfigError(
            f"{npz_path} holds vectors of shape {vectors.shape} ({vectors.dtype}) but {json_path.name} "
            f"describes {count} x {dim} float32: the two files do not belong together"
        )
    index = cls(dim, state["metric"], backend=state.get("backend", "numpy"))
    ids, metadata, texts = state["ids"], state["metadata"], state["texts"]
    if not (len(ids) == len(metadata) == len(texts) == count):
        raise ConfigError(f"{json_path}: ids, metadata and texts do not all have {count} entries")
    index._restore(vectors, ids, metadata, texts)
    return index
