"""A server that answers bench's concurrent_50 with canned JSON: the floor its client sets on this machine.

    python tools/canned_server.py --port 9110 &
    .venv/bin/python bench/run.py --url http://127.0.0.1:9110 --workload concurrent_50

Every start is RUNNING at once and SUCCESS at its first poll, and nothing is stored, so
what bench reports (wall, POST p50) is what its 50 client threads cost by themselves, on
the same cores, plus as little server as an HTTP answer can take: one asyncio loop, one
thread, requests read with the stream reader and answers written as ready bytes.
NOTE (issue 14): on the 2-core machine of the issue, the former client (requests, a new
connection per thread after the barrier) and the former canned server (http.server, a thread
per connection) set a floor of a POST p50 of 30-34 ms and a wall of 0.11-0.12 s with a load
average of 4 (86-180 ms and 0.27-0.41 s at 27), above the 20 ms target whatever the server.
Only concurrent_50 is served: other workloads read tasks and outputs this server does not have.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import uuid
from typing import Any

#: What bench's workflow documents name their workflows (``bench_<kind>_<run id>:`` at line start).
WORKFLOW_NAME = re.compile(rb"^(bench_\w+):", re.MULTILINE)
TIMESTAMP = "2026-01-01 00:00:00"
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request"}


def answer(status: int, body: Any = None) -> bytes:
    data = b"" if body is None else json.dumps(body).encode()
    head = f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Length: {len(data)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    return (head + "\r\n").encode() + data


def execution(ex_id: str, state: str) -> dict[str, Any]:
    return {"id": ex_id, "state": state, "created_at": TIMESTAMP, "updated_at": TIMESTAMP}


def respond(method: str, path: str, body: bytes) -> bytes:
    """The canned answer to one request."""
    if method == "GET":
        if path.startswith("/v2/executions/"):
            return answer(200, execution(path.rsplit("/", 1)[1], "SUCCESS"))
        return answer(200, {"versions": [], "workflows": [], "executions": [], "tasks": []})
    if method == "POST":
        if path.startswith("/v2/workflows"):
            names = WORKFLOW_NAME.findall(body)
            return answer(201, {"workflows": [{"name": n.decode(), "id": str(uuid.uuid4())} for n in names]})
        return answer(201, execution(str(uuid.uuid4()), "RUNNING"))
    if method == "DELETE":
        return answer(204)
    return answer(400, {"faultstring": f"{method} is not canned"})


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, _ = head.split(b" ", 2)
            length = content_length(head)
            body = await reader.readexactly(length) if length else b""
            writer.write(respond(method.decode(), path.decode(), body))
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    # NOTE: bench's 50 threads connect at once; a short backlog would refuse some.
    server = await asyncio.start_server(serve_connection, "127.0.0.1", port, backlog=256)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9110)
    asyncio.run(main(parser.parse_args().port))
