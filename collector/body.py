"""Reading request bodies: content type, size cap (checked on Content-Length and while
streaming), optional gzip with the cap applied to the decompressed size."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from starlette.requests import Request

from collector.errors import CollectorError

JSON = "json"
NDJSON = "ndjson"
_MEDIA_TYPES = {
    "application/json": JSON,
    "application/x-ndjson": NDJSON,
    "application/ndjson": NDJSON,
    "application/jsonl": NDJSON,
}


@dataclass(frozen=True)
class Body:
    content: bytes  # decompressed
    received_bytes: int  # as sent on the wire


def media_type(request: Request) -> str:
    """The request's media type, lower case, without parameters (``; charset=utf-8``)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def body_format(request: Request) -> str:
    """JSON or NDJSON from Content-Type; anything else is 415."""
    kind = _MEDIA_TYPES.get(media_type(request))
    if kind is None:
        raise CollectorError(415, f"unsupported content type {media_type(request)!r}; "
                                  "send application/json or application/x-ndjson")
    return kind


def _too_large(limit: int) -> CollectorError:
    return CollectorError(413, f"request body is larger than the limit of {limit} bytes")


def _gunzip(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
    try:
        # max_length bounds memory: a small bomb cannot expand past the limit.
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise CollectorError(400, f"invalid gzip body: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise _too_large(limit)
    if not inflater.eof:
        raise CollectorError(400, "invalid gzip body: truncated")
    return out


async def read_body(request: Request, limit: int) -> Body:
    """The whole body, at most ``limit`` bytes (before and after decompression), else 413."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise CollectorError(415, f"unsupported content encoding {encoding!r}; send identity or gzip")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a chunked or lying client: stop reading, do not buffer the rest
            raise _too_large(limit)
        chunks.append(chunk)
    data = b"".join(chunks)
    if encoding == "gzip":
        return Body(_gunzip(data, limit), size)
    return Body(data, size)
