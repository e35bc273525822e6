"""The stable front door of a local environment: a TCP relay from its fixed port to the live container.

Each new connection is relayed to the address in the backend file, read at connect time; switching
environments is an atomic rename of that file, so the port never stops answering (connections already open
finish on the old container, which is stopped only after a drain period). On a cluster the Service plays
this part. Run: ``python -m mlship.deploy.proxy --listen 127.0.0.1:3100 --backend-file F``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path


def write_backend(path: Path, address: str) -> None:
    """Atomically point the relay at ``host:port``."""
    partial = path.with_suffix(".partial")
    partial.write_text(address, encoding="utf-8")
    partial.replace(path)


def read_backend(path: Path) -> tuple[str, int] | None:
    try:
        host, _, port = path.read_text(encoding="utf-8").strip().rpartition(":")
        return host, int(port)
    except (OSError, ValueError):
        return None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def serve(listen: tuple[str, int], backend_file: Path) -> None:
    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        backend = read_backend(backend_file)
        if backend is None:
            client_writer.close()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*backend)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))

    server = await asyncio.start_server(relay, *listen, reuse_address=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--listen", required=True, help="host:port")
    parser.add_argument("--backend-file", required=True, type=Path)
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    asyncio.run(serve((host, int(port)), args.backend_file))


if __name__ == "__main__":  # pragma: no cover
    main()
