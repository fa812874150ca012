"""Arrow IPC stream bodies, read safely: a stream whose buffers are compressed is refused
before pyarrow decompresses it (a few kilobytes of zstd can claim gigabytes: the body limit
would bound nothing)."""

import pyarrow as pa

from service.core.errors import InvalidInput

ARROW_STREAM = "application/vnd.apache.arrow.stream"


# pyarrow tells nothing of compression until it has decompressed (and allocated what the
# stream claims); each message's flatbuffer header tells it first. Arrow has verified the
# flatbuffer by the time it hands the message over, so its offsets are within it.
def _u32(buffer: memoryview, at: int, signed: bool = False) -> int:
    return int.from_bytes(buffer[at : at + 4], "little", signed=signed)


def _field(buffer: memoryview, table: int, index: int) -> int:
    """Where field ``index`` of the flatbuffer table at ``table`` is; 0 where it is absent."""
    vtable = table - _u32(buffer, table, signed=True)
    entry = 4 + 2 * index
    if entry + 2 > int.from_bytes(buffer[vtable : vtable + 2], "little"):
        return 0
    offset = int.from_bytes(buffer[vtable + entry : vtable + entry + 2], "little")
    return table + offset if offset else 0


def _compressed(message: pa.ipc.Message) -> bool:
    """Whether a record or dictionary batch message says its buffers are compressed: its
    flatbuffer's ``Message.header`` (a ``RecordBatch``, or a ``DictionaryBatch`` whose
    ``data`` is one) has a ``compression`` field."""
    if message.type not in ("record batch", "dictionary"):
        return False
    buffer = memoryview(message.metadata)
    header = _field(buffer, _u32(buffer, 0), 2)
    batch = header + _u32(buffer, header) if header else 0
    if batch and message.type == "dictionary":
        data = _field(buffer, batch, 1)
        batch = data + _u32(buffer, data) if data else 0
    return bool(batch and _field(buffer, batch, 3))


def read_stream(body: bytes | bytearray | memoryview) -> pa.Table:
    """The stream's table, not yet validated; 422 at ``("body",)`` for a body that is not
    an Arrow IPC stream or whose buffers are compressed."""
    try:
        if any(map(_compressed, pa.ipc.MessageReader.open_stream(pa.py_buffer(body)))):
            raise InvalidInput(
                ("body",),
                "the Arrow stream's buffers are compressed; send them uncompressed "
                "(IpcWriteOptions(compression=None), pyarrow's default)",
                "arrow_compressed",
            )
        return pa.ipc.open_stream(pa.py_buffer(body)).read_all()
    except (pa.ArrowException, OSError) as error:
        raise InvalidInput(
            ("body",), f"not an Arrow IPC stream: {error}", "arrow_invalid"
        ) from None
