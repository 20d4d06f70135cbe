"""The echo benchmark's Python side: asyncio.start_server and asyncio clients, on
loopback only, in one event loop (as the Rust sides run server and clients in one
runtime). Run by `compare` (benches/src/bin/compare/echo.rs):

    python3 echo_asyncio.py BUDGET_SECONDS MAX_PER_CONNECTION SHAPES ACCEPTS

SHAPES is a comma-separated list of CONNECTIONSxBYTES (10x64,100x16384).
Prints one line per shape, `echo_<conns>_<bytes> <round trips per s> <p50 s> <p99 s>`,
and `accept_close <accepts> <seconds>`.
"""

import asyncio
import sys
import time


async def handle(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def client(port, size, budget, max_count, latencies):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    message = b"x" * size
    # One round trip not counted (the connection's first).
    writer.write(message)
    await writer.drain()
    await reader.readexactly(size)
    start = time.perf_counter()
    deadline = start + budget
    count = 0
    while count < max_count and time.perf_counter() < deadline:
        sent = time.perf_counter()
        writer.write(message)
        await writer.drain()
        await reader.readexactly(size)
        latencies.append(time.perf_counter() - sent)
        count += 1
    end = time.perf_counter()
    writer.close()
    await writer.wait_closed()
    return start, end


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


async def echo(connections, size, budget, max_count):
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    latencies = []
    spans = await asyncio.gather(
        *(client(port, size, budget, max_count, latencies) for _ in range(connections))
    )
    server.close()
    await server.wait_closed()
    seconds = max(e for _, e in spans) - min(s for s, _ in spans)
    latencies.sort()
    return (
        len(latencies) / seconds,
        percentile(latencies, 0.50),
        percentile(latencies, 0.99),
    )


async def close_at_once(reader, writer):
    writer.close()


async def accept_close(count):
    server = await asyncio.start_server(close_at_once, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    start = time.perf_counter()
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.read()  # b"": the server closed it
        writer.close()
    seconds = time.perf_counter() - start
    server.close()
    await server.wait_closed()
    return seconds


def main():
    budget = float(sys.argv[1])
    max_count = int(sys.argv[2])
    shapes = [tuple(int(x) for x in s.split("x")) for s in sys.argv[3].split(",")]
    accepts = int(sys.argv[4])
    for connections, size in shapes:
        rate, p50, p99 = asyncio.run(echo(connections, size, budget, max_count))
        print(f"echo_{connections}_{size} {rate:.1f} {p50:.9f} {p99:.9f}", flush=True)
    seconds = asyncio.run(accept_close(accepts))
    print(f"accept_close {accepts} {seconds:.6f}", flush=True)


main()
