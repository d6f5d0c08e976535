"""The modules a pickled model needs in order to load, read from its opcodes; never unpickled.

Unpickling runs code chosen by whoever wrote the file, so a checker must not do it. The opcodes
say enough: every class and function the file needs is named by a GLOBAL or STACK_GLOBAL opcode.
A small stack machine follows the stream without building anything, because STACK_GLOBAL takes
its module from the stack (often through the memo), and because joblib files are not pure
pickles: joblib writes each numpy array's raw bytes into the stream right after the opcodes of
its `NumpyArrayWrapper` (joblib/numpy_pickle.py), so the machine reads the wrapper's shape and
dtype to step over exactly those bytes. joblib's compressed files are recognised by the magic
numbers joblib itself uses (joblib/compressor.py), and zip archives (PyTorch's format) by
their `.pkl` members.
"""

from __future__ import annotations

import _compat_pickle
import bz2
import contextlib
import gzip
import io
import lzma
import math
import pickletools
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK = 1 << 20
TRUNCATED = "truncated: the file ends before the pickle does (no STOP opcode)"
NOT_A_PICKLE = "not a pickle, or a damaged one"

# joblib/compressor.py: the first bytes of each compressed format it writes.
_ZIP = b"PK\x03\x04"
_JOBLIB_COMPAT = b"ZF"  # joblib < 0.10: b"ZF", the length in hex padded to 19, then zlib data
_COMPAT_HEADER = len(_JOBLIB_COMPAT) + len(hex(2**64))
_ZLIB = b"\x78"
_GZIP = b"\x1f\x8b"
_BZ2 = b"BZ"
_XZ = b"\xfd\x37\x7a\x58\x5a"
_LZMA = b"\x5d\x00"
_LZ4 = b"\x04\x22\x4d\x18"

# "f8", "<U5", "O8": the digits are the item size unless the dtype's state gives another.
_DESCRIPTOR = re.compile(r"[<>|=]?[A-Za-z]+(\d+)")
_NUMPY_HASOBJECT = 0x01  # NPY_ITEM_HASOBJECT in a dtype's flags


@dataclass(frozen=True)
class ArtifactModules:
    """The dotted modules that a GLOBAL or STACK_GLOBAL opcode of the artifact names, sorted,
    standard library ones included (the caller knows what it provides). `error` says why the file could not be read to its end; then `modules` is empty, since
    the opcodes of a damaged or foreign file are no evidence."""

    path: Path
    modules: tuple[str, ...]
    error: str | None


def modules_in_artifact(path: Path) -> ArtifactModules:
    """Read `path` (a pickle of protocol 0-5, a joblib file compressed or not, or a zip with
    pickles inside) and list the modules it references. Never raises for a bad file."""
    try:
        modules = _modules(path)
    except _Unreadable as error:
        return ArtifactModules(path, (), str(error))
    except EOFError:
        return ArtifactModules(path, (), TRUNCATED)
    except (OSError, zlib.error, lzma.LZMAError, zipfile.BadZipFile) as error:
        return ArtifactModules(path, (), f"cannot read the file: {error}")
    return ArtifactModules(path, tuple(sorted(modules)), None)


class _Unreadable(Exception):
    """The file is not a pickle pavedroad can follow; the message says why."""


class _Stream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...
    def readline(self, size: int = ..., /) -> bytes: ...
    def seekable(self) -> bool: ...
    def seek(self, offset: int, whence: int = ..., /) -> int: ...
    def tell(self) -> int: ...
    def close(self) -> None: ...


def _modules(path: Path) -> set[str]:
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head:
        raise _Unreadable("the file is empty")
    if head.startswith(_ZIP):
        return _zip_modules(path)
    if head.startswith(_LZ4):
        raise _Unreadable(
            "compressed with lz4, which pavedroad does not read (the standard library has no "
            "lz4): dump it again with joblib's compress=('zlib', 3) or compress=('lzma', 3)"
        )
    stream, compressed = _decompressing(path, head)
    with contextlib.closing(stream):
        modules = _scan(stream)
        if compressed:  # a cut compressed file can still hold the whole pickle: read its end
            while stream.read(CHUNK):
                pass
        return modules


def _decompressing(path: Path, head: bytes) -> tuple[_Stream, bool]:
    """The file's pickle stream, decompressed on the fly as joblib would; and whether it was
    compressed."""
    if head.startswith(_JOBLIB_COMPAT):
        return io.BufferedReader(_Inflating(_after_compat_header(path))), True
    if head.startswith(_ZLIB):
        return io.BufferedReader(_Inflating(path.open("rb"))), True
    if head.startswith(_GZIP):
        return gzip.open(path, "rb"), True
    if head.startswith(_BZ2):
        return bz2.open(path, "rb"), True
    if head.startswith((_XZ, _LZMA)):
        return lzma.open(path, "rb"), True
    return path.open("rb"), False


def _after_compat_header(path: Path) -> IO[bytes]:
    handle = path.open("rb")
    handle.seek(_COMPAT_HEADER)
    if handle.read(1) != b" ":  # joblib <= 0.8.4 wrote one more space; zlib data never starts so
        handle.seek(_COMPAT_HEADER)
    return handle


def _zip_modules(path: Path) -> set[str]:
    """A zip archive (torch.save's format since PyTorch 1.6) holds its pickle as `*.pkl`."""
    with zipfile.ZipFile(path) as archive:
        members = [name for name in archive.namelist() if name.endswith(".pkl")]
        if not members:
            raise _Unreadable("a zip archive with no pickle (.pkl) inside")
        modules: set[str] = set()
        for member in members:
            with archive.open(member) as stream:
                try:
                    modules |= _scan(stream)
                except _Unreadable as error:
                    raise _Unreadable(f"{member} in the zip archive: {error}") from None
        return modules


def _scan(stream: _Stream) -> set[str]:
    machine = _Machine(_Chunked(stream), set())
    try:
        machine.run()
    except ValueError as error:  # pickletools: a byte that is no opcode, an argument cut short
        if not stream.read(1):
            raise _Unreadable(TRUNCATED) from None
        raise _Unreadable(f"{NOT_A_PICKLE}: {error}") from None
    except TypeError as error:  # a dictionary key that no pickle could hold
        raise _Unreadable(f"{NOT_A_PICKLE}: {error}") from None
    return machine.modules


class _Chunked:
    """A stream whose large reads go a chunk at a time: a damaged length field asking for 2**60
    bytes then costs what the file holds, where one read(2**60) would allocate it up front."""

    def __init__(self, stream: _Stream) -> None:
        self._stream = stream
        self.readline = stream.readline
        self.seekable = stream.seekable
        self.seek = stream.seek
        self.tell = stream.tell
        self.close = stream.close

    def read(self, size: int = -1, /) -> bytes:
        if size <= CHUNK:
            return self._stream.read(size)
        parts: list[bytes] = []
        while size > 0 and (chunk := self._stream.read(min(size, CHUNK))):
            parts.append(chunk)
            size -= len(chunk)
        return b"".join(parts)


class _Inflating(io.RawIOBase):
    """A bare zlib stream (what joblib writes for compress=True or an int) read as the bytes it
    holds, a chunk at a time: the standard library has file objects for gzip, bz2 and lzma only."""

    def __init__(self, source: IO[bytes]) -> None:
        super().__init__()
        self._source = source
        self._inflate = zlib.decompressobj()
        self._position = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = b""
        while not data and not self._inflate.eof:
            compressed = self._inflate.unconsumed_tail or self._source.read(CHUNK)
            if not compressed:
                raise EOFError("the zlib stream ends before its end marker")
            data = self._inflate.decompress(compressed, len(view))
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        self._source.close()
        super().close()


# -- the stack machine ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Global:
    module: str
    name: str


@dataclass(eq=False)
class _Object:
    """What unpickling would build, left unbuilt: its factory, arguments and BUILD state."""

    factory: object
    args: object
    state: object = None


_OPAQUE = object()  # a value the machine need not know: a persistent id, an extension code
_RECONSTRUCTOR = _Global("copyreg", "_reconstructor")  # protocols 0 and 1 build objects with it

_PUSH_ARGUMENT = frozenset(
    {
        *("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT"),
        *("STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "SHORT_BINUNICODE"),
        *("BINUNICODE", "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"),
    }
)
_PUSH_CONSTANT: dict[str, object] = {
    "NONE": None,
    "NEWTRUE": True,
    "NEWFALSE": False,
    "EMPTY_TUPLE": (),
}
_PUSH_OPAQUE = frozenset({"EXT1", "EXT2", "EXT4", "PERSID", "NEXT_BUFFER"})
_MEMO_GET = frozenset({"GET", "BINGET", "LONG_BINGET"})
_MEMO_PUT = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_NO_EFFECT = frozenset({"FRAME", "READONLY_BUFFER", "STOP"})


class _Machine:
    """Follows a pickle's opcodes (pickletools.genops) with the stack, marks and memo that
    unpickling would have, holding placeholders instead of objects; imports nothing."""

    def __init__(self, stream: _Stream, modules: set[str], *, inline_arrays: bool = True) -> None:
        self.stream = stream
        self.modules = modules
        # joblib writes arrays in-line in its own stream only; the nested pickle of an object
        # array comes from the plain pickler, so no array bytes follow a wrapper there.
        self.inline_arrays = inline_arrays
        self.protocol = 0
        self.stack: list[object] = []
        self.marks: list[list[object]] = []
        self.memo: dict[object, object] = {}

    def run(self) -> None:
        for opcode, arg, position in pickletools.genops(cast("IO[bytes]", self.stream)):
            try:
                self.step(opcode.name, arg)
            except (IndexError, KeyError) as error:
                raise _Unreadable(
                    f"{NOT_A_PICKLE}: opcode {opcode.name} at byte {position} has no "
                    f"{'stack entry' if isinstance(error, IndexError) else 'memo entry'} to use"
                ) from None

    def step(self, name: str, arg: object) -> None:
        if name in _PUSH_ARGUMENT:
            self._push(arg)
        elif name in _PUSH_CONSTANT:
            self._push(_PUSH_CONSTANT[name])
        elif name in _PUSH_OPAQUE:
            self._push(_OPAQUE)
        elif name in _MEMO_GET:
            self._push(self.memo[arg])
        elif name in _MEMO_PUT:
            self.memo[arg] = self.stack[-1]
        elif name == "MEMOIZE":
            self.memo[len(self.memo)] = self.stack[-1]
        elif name not in _NO_EFFECT:
            handler = getattr(self, f"_{name.lower()}", None)
            if handler is None:
                raise _Unreadable(f"opcode {name} is not one pavedroad knows")
            handler(arg)

    # stack helpers: the stack is swapped at each MARK, so it is looked up at each use

    def _push(self, value: object) -> None:
        self.stack.append(value)

    def _take(self) -> object:
        return self.stack.pop()

    def _take_mark(self) -> list[object]:
        items = self.stack
        self.stack = self.marks.pop()
        return items

    # opcodes, named after pickletools' names

    def _proto(self, arg: object) -> None:
        self.protocol = cast("int", arg)

    def _mark(self, _arg: object) -> None:
        self.marks.append(self.stack)
        self.stack = []

    def _pop(self, _arg: object) -> None:
        if self.stack:
            self.stack.pop()
        else:
            self._take_mark()

    def _pop_mark(self, _arg: object) -> None:
        self._take_mark()

    def _dup(self, _arg: object) -> None:
        self._push(self.stack[-1])

    def _empty_list(self, _arg: object) -> None:
        self._push([])

    def _empty_dict(self, _arg: object) -> None:
        self._push({})

    def _empty_set(self, _arg: object) -> None:
        self._push([])

    def _list(self, _arg: object) -> None:
        self._push(self._take_mark())

    def _tuple(self, _arg: object) -> None:
        self._push(tuple(self._take_mark()))

    def _frozenset(self, _arg: object) -> None:
        self._push(tuple(self._take_mark()))

    def _tuple1(self, _arg: object) -> None:
        self._push((self._take(),))

    def _tuple2(self, _arg: object) -> None:
        second = self._take()
        self._push((self._take(), second))

    def _tuple3(self, _arg: object) -> None:
        third, second = self._take(), self._take()
        self._push((self._take(), second, third))

    def _dict(self, _arg: object) -> None:
        items = self._take_mark()
        self._push(dict(zip(items[::2], items[1::2], strict=False)))

    def _append(self, _arg: object) -> None:
        self._extend([self._take()])

    def _appends(self, _arg: object) -> None:
        self._extend(self._take_mark())

    def _additems(self, _arg: object) -> None:
        self._extend(self._take_mark())

    def _extend(self, items: list[object]) -> None:
        target = self.stack[-1]
        if isinstance(target, list):  # else an object whose class appends: nothing to follow
            target.extend(items)

    def _setitem(self, _arg: object) -> None:
        value = self._take()
        self._update([self._take(), value])

    def _setitems(self, _arg: object) -> None:
        self._update(self._take_mark())

    def _update(self, items: list[object]) -> None:
        target = self.stack[-1]
        if isinstance(target, dict):
            target.update(zip(items[::2], items[1::2], strict=False))

    def _global(self, arg: object) -> None:
        module, _, name = cast("str", arg).partition(" ")
        self._push(self._named(module, name))

    def _stack_global(self, _arg: object) -> None:
        name, module = self._take(), self._take()
        if not isinstance(module, str) or not isinstance(name, str):
            raise _Unreadable(f"{NOT_A_PICKLE}: STACK_GLOBAL without a module and a name")
        self._push(self._named(module, name))

    def _named(self, module: str, name: str) -> _Global:
        if self.protocol < 3:  # as pickle does: Python 2 names (copy_reg, __builtin__) mapped
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            else:
                module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        self.modules.add(module)
        return _Global(module, name)

    def _inst(self, arg: object) -> None:
        module, _, name = cast("str", arg).partition(" ")
        self._push(_Object(self._named(module, name), tuple(self._take_mark())))

    def _obj(self, _arg: object) -> None:
        factory, *args = self._take_mark()
        self._push(_Object(factory, tuple(args)))

    def _reduce(self, _arg: object) -> None:
        args = self._take()
        self._push(_Object(self._take(), args))

    def _newobj(self, _arg: object) -> None:
        args = self._take()
        self._push(_Object(self._take(), args))

    def _newobj_ex(self, _arg: object) -> None:
        self._take()  # keyword arguments
        self._newobj(None)

    def _binpersid(self, _arg: object) -> None:
        self._take()
        self._push(_OPAQUE)

    def _build(self, _arg: object) -> None:
        state = self._take()
        target = self.stack[-1]
        if isinstance(target, _Object):
            target.state = state
            if self.inline_arrays and _is_array_wrapper(target):
                self._step_over_array(state)

    # joblib's in-line numpy arrays

    def _step_over_array(self, state: object) -> None:
        """joblib wrote the array right after this wrapper: an object array as a nested pickle,
        any other as an optional alignment padding then its raw bytes."""
        if not isinstance(state, dict):
            raise _Unreadable("a joblib array wrapper without its shape and dtype")
        size, has_objects = _array_size(state.get("shape"), state.get("dtype"))
        if has_objects:
            _Machine(self.stream, self.modules, inline_arrays=False).run()
            return
        if isinstance(state.get("numpy_array_alignment_bytes"), int):
            padding = self.stream.read(1)
            self._skip(padding[0] if padding else 0)
        self._skip(size)

    def _skip(self, size: int) -> None:
        if self.stream.seekable():
            self.stream.seek(size, io.SEEK_CUR)
            return
        while size > 0:
            chunk = self.stream.read(min(size, CHUNK))
            if not chunk:
                raise _Unreadable(TRUNCATED)
            size -= len(chunk)


def _is_array_wrapper(target: _Object) -> bool:
    factory = target.factory
    if factory == _RECONSTRUCTOR and isinstance(target.args, tuple) and target.args:
        factory = target.args[0]
    # joblib.numpy_pickle, or the copy vendored by scikit-learn < 0.23 (sklearn.externals.joblib)
    return (
        isinstance(factory, _Global)
        and factory.name == "NumpyArrayWrapper"
        and factory.module.endswith("joblib.numpy_pickle")
    )


def _array_size(shape: object, dtype: object) -> tuple[int, bool]:
    """(bytes of data, whether the dtype holds Python objects) from a wrapper's shape and its
    numpy.dtype, pickled as dtype(descriptor, False, True) with state (version, byte order,
    subarray, names, fields, item size, alignment, flags, ...)."""
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise _Unreadable("a joblib array wrapper whose shape is not a tuple of sizes")
    if not isinstance(dtype, _Object) or not isinstance(dtype.args, tuple) or not dtype.args:
        raise _Unreadable("a joblib array wrapper whose dtype cannot be read")
    descriptor = dtype.args[0]
    state = dtype.state if isinstance(dtype.state, tuple) and len(dtype.state) >= 8 else None
    item_size = state[5] if state is not None else -1
    flags = state[7] if state is not None else 0
    if not isinstance(item_size, int) or item_size < 0:
        found = _DESCRIPTOR.fullmatch(descriptor) if isinstance(descriptor, str) else None
        if found is None:
            raise _Unreadable(f"a joblib array of dtype {descriptor!r}, whose size is unknown")
        item_size = int(found.group(1))
    has_objects = isinstance(flags, int) and bool(flags & _NUMPY_HASOBJECT)
    return math.prod(shape) * item_size, has_objects
