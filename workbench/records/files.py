"""Where executed notebooks and exports go: a local folder or a Supabase Storage bucket.

``put_file(path, data) -> uri`` and ``get_file(uri) -> bytes``. URIs are ``file:///...``
for the local folder (``WORKBENCH_HOME/outputs``) and ``supabase://<bucket>/<path>`` for
Storage, so a record can say where its file lives whatever backend wrote it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from workbench.errors import NotFoundError, ValidationError


def _clean(path: str) -> str:
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if not parts or any(p in ("..", "") for p in parts) or path.startswith("/"):
        raise ValidationError(f"File path {path!r} must be relative and stay inside the "
                              f"output folder (no '..', no leading '/').", details={"path": path})
    return "/".join(parts)


class FileStore(ABC):
    @abstractmethod
    def put_file(self, path: str, data: bytes) -> str:
        """Store ``data`` at ``path`` (relative, '/'-separated; overwrites) and return its URI."""

    @abstractmethod
    def get_file(self, uri: str) -> bytes:
        """The bytes stored at ``uri``; NotFoundError if there is nothing."""

    @abstractmethod
    def delete_file(self, uri: str) -> int:
        """Remove what ``uri`` holds (retention); returns the bytes freed (0 if absent)."""


class LocalFiles(FileStore):
    """A folder on disk (default ``WORKBENCH_HOME/outputs``)."""

    def __init__(self, root: Path | None = None) -> None:
        if root is None:
            from workbench.config import outputs_dir

            root = outputs_dir()
        self.root = Path(root)

    def put_file(self, path: str, data: bytes) -> str:
        target = self.root / _clean(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)  # readers never see half a file
        return target.resolve().as_uri()

    def get_file(self, uri: str) -> bytes:
        parsed = urlparse(uri)
        path = Path(unquote(parsed.path)) if parsed.scheme == "file" else self.root / _clean(uri)
        if not path.is_file():
            raise NotFoundError(f"No stored file at {uri}.", details={"uri": uri})
        return path.read_bytes()

    def delete_file(self, uri: str) -> int:
        parsed = urlparse(uri)
        path = Path(unquote(parsed.path)) if parsed.scheme == "file" else self.root / _clean(uri)
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValidationError(f"{uri} is outside the output folder {self.root}; "
                                  f"nothing deleted.", details={"uri": uri})
        if not path.is_file():
            return 0
        size = path.stat().st_size
        path.unlink()
        return size


class SupabaseFiles(FileStore):
    """A Supabase Storage bucket through supabase-py (``storage.from_(bucket)``)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def put_file(self, path: str, data: bytes) -> str:
        from workbench.records.backends.supabase import wrap_errors

        clean = _clean(path)
        with wrap_errors(f"upload to storage bucket {self.bucket!r}"):
            self.client.storage.from_(self.bucket).upload(clean, data, {"upsert": "true"})
        return f"supabase://{self.bucket}/{clean}"

    def get_file(self, uri: str) -> bytes:
        from workbench.records.backends.supabase import wrap_errors

        parsed = urlparse(uri)
        bucket, path = (parsed.netloc, parsed.path.lstrip("/")) if parsed.scheme == "supabase" \
            else (self.bucket, _clean(uri))
        with wrap_errors(f"download {uri}"):
            return bytes(self.client.storage.from_(bucket).download(path))

    def delete_file(self, uri: str) -> int:
        from workbench.records.backends.supabase import wrap_errors

        parsed = urlparse(uri)
        bucket, path = (parsed.netloc, parsed.path.lstrip("/")) if parsed.scheme == "supabase" \
            else (self.bucket, _clean(uri))
        with wrap_errors(f"remove {uri}"):
            self.client.storage.from_(bucket).remove([path])
        return 0  # Storage does not say how big it was
