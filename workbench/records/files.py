"""Where executed notebooks and exports go: a local folder or a Supabase Storage bucket.

``put_file(key, data) -> ref`` and ``get_file(ref) -> bytes``. Files are addressed **by
key**: a '/'-separated path relative to the store's root (``WORKBENCH_HOME/outputs``) or
bucket. Records hold what ``put_file`` returned: the key itself for the local folder,
``supabase://<bucket>/<key>`` for Storage.

Why so strict: a record's file reference is data a user may be able to write (RLS lets an
owner update their own rows), so the server must never open whatever a row says. A
reference resolves only *inside* the root: absolute paths, ``..``, NUL bytes, other URI
schemes, other buckets and symlinks leading out of the root are refused with a 4xx.
Records written before keys (``file:///.../outputs/...`` URIs) still open when they point
inside the root.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from workbench.errors import NotFoundError, ValidationError

MAX_KEY_BYTES = 1024


def _parse(ref: str) -> Any:
    try:
        return urlparse(ref)
    except ValueError:  # e.g. 'http://[x': not a reference this store wrote
        raise _refuse(ref, "not a URI or a key") from None


def _refuse(ref: str, reason: str) -> ValidationError:
    # the message never echoes a server path: the reference may be a hostile one
    return ValidationError(
        "This stored file reference is refused: files are read only by a key inside the "
        f"file store ({reason}).", details={"reason": reason})


def _clean(path: str) -> str:
    """The normalised key of ``path``; ValidationError unless it is relative and inside."""
    if "\x00" in path or len(path.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise _refuse(path, "NUL byte or over 1024 bytes")
    if ":" in path.split("/", 1)[0] or path.startswith(("/", "\\")):
        raise ValidationError(f"File key {path!r} must be relative and stay inside the "
                              f"output folder (no '..', no leading '/', no scheme).",
                              details={"key": path, "reason": "absolute"})
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if not parts or any(p in ("..", "") for p in parts):
        raise ValidationError(f"File key {path!r} must be relative and stay inside the "
                              f"output folder (no '..', no leading '/').",
                              details={"key": path, "reason": "outside"})
    return "/".join(parts)


def _key(ref: str) -> str:
    """:func:`_clean` for a reference read from a record: refused without echoing it."""
    try:
        return _clean(ref)
    except ValidationError as exc:
        reason = str(exc.details.get("reason") or "outside")
        raise _refuse(ref, {"absolute": "an absolute path or a scheme",
                            "outside": "'..' or an empty segment"}.get(reason, reason)) from None


class FileStore(ABC):
    @abstractmethod
    def put_file(self, path: str, data: bytes) -> str:
        """Store ``data`` at key ``path`` (relative, '/'-separated; overwrites); returns the
        reference to keep on the record."""

    @abstractmethod
    def get_file(self, uri: str) -> bytes:
        """The bytes stored at a key (or a reference ``put_file`` returned); NotFoundError if
        there is nothing, ValidationError if it points outside the store."""

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
        key = _clean(path)
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)  # readers never see half a file
        return key

    def key_of(self, ref: str) -> str:
        """The key a record's reference names: a key, or a legacy ``file://`` URI whose
        path lies inside the root (ValidationError for anything else)."""
        if "\x00" in ref:
            raise _refuse(ref, "NUL byte")
        parsed = _parse(ref)
        if parsed.scheme == "file":
            if parsed.netloc not in ("", "localhost"):
                raise _refuse(ref, "file URI on another host")
            try:
                inside = Path(unquote(parsed.path)).resolve().relative_to(self.root.resolve())
            except (ValueError, OSError):
                raise _refuse(ref, "file URI outside the output folder") from None
            return _key(inside.as_posix())
        if parsed.scheme and len(parsed.scheme) > 1:  # 'c:' drive letters: _clean refuses
            raise _refuse(ref, f"scheme {parsed.scheme!r} is not a local file key")
        return _key(ref)

    def get_file(self, uri: str) -> bytes:
        key = self.key_of(uri)
        root = self.root.resolve()
        try:
            path = (self.root / key).resolve()
            path.relative_to(root)  # a symlink out of the root resolves outside it
        except ValueError:
            raise _refuse(uri, "symlink out of the output folder") from None
        except OSError:
            raise NotFoundError("No stored file under this key.", details={"key": key}) from None
        try:
            if not path.is_file():
                raise NotFoundError("No stored file under this key.", details={"key": key})
            return path.read_bytes()
        except OSError:
            raise NotFoundError("No stored file under this key.", details={"key": key}) from None

    def delete_file(self, uri: str) -> int:
        key = self.key_of(uri)  # the same rules as reading: inside the root, by key
        path = self.root / key
        try:
            path.resolve().relative_to(self.root.resolve())
        except ValueError:
            raise _refuse(uri, "symlink out of the output folder") from None
        if path.is_symlink() or not path.is_file():
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

    def key_of(self, ref: str) -> str:
        """The key inside this store's bucket (another bucket or scheme is refused)."""
        parsed = _parse(ref)
        if parsed.scheme == "supabase":
            if parsed.netloc != self.bucket:
                raise _refuse(ref, "another storage bucket")
            return _key(unquote(parsed.path).lstrip("/"))
        if parsed.scheme and len(parsed.scheme) > 1:
            raise _refuse(ref, f"scheme {parsed.scheme!r} is not a storage key")
        return _key(ref)

    def get_file(self, uri: str) -> bytes:
        from workbench.records.backends.supabase import wrap_errors

        key = self.key_of(uri)
        with wrap_errors(f"download {key}"):
            return bytes(self.client.storage.from_(self.bucket).download(key))

    def delete_file(self, uri: str) -> int:
        from workbench.records.backends.supabase import wrap_errors

        key = self.key_of(uri)
        with wrap_errors(f"remove {key}"):
            self.client.storage.from_(self.bucket).remove([key])
        return 0  # Storage does not say how big it was
