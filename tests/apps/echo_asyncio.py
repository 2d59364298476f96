#!/usr/bin/env python3
"""echo_asyncio.py - an asyncio TCP echo server, as ordinary Python programs
write one (asyncio.start_server, StreamReader/StreamWriter on the default
epoll event loop).  It echoes every byte back; when a client half-closes
it finishes echoing and closes.  After --max-conns connections it prints
how many connections and bytes it served and exits 0 (1 if a connection
ended with an error).  It prints "READY listening on port P" on stderr
once it listens (for lib.sh's wait_ready).

    echo_asyncio.py [--port P] [--max-conns N] [--timeout SECONDS]
"""
import argparse
import asyncio
import sys


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=7000)
    ap.add_argument("--max-conns", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()

    served = 0
    errors = 0
    total = 0
    done = asyncio.Event()

    async def echo(reader, writer):
        nonlocal served, errors, total
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                total += len(data)
                writer.write(data)
                await writer.drain()
            writer.close()
            await writer.wait_closed()
        except Exception as e:  # report, count, go on with the others
            errors += 1
            print("echo_asyncio: connection error: %r" % e, file=sys.stderr)
        served += 1
        if served == a.max_conns:
            done.set()

    server = await asyncio.start_server(echo, "0.0.0.0", a.port, backlog=256)
    print("echo_asyncio: READY listening on port %d" % a.port, file=sys.stderr, flush=True)
    try:
        await asyncio.wait_for(done.wait(), a.timeout)
    except asyncio.TimeoutError:
        print("echo_asyncio: timeout after %d of %d connections" % (served, a.max_conns),
              file=sys.stderr)
        return 1
    server.close()
    await server.wait_closed()
    print("echo_asyncio: %d connections, %d bytes echoed, %d errors" % (served, total, errors),
          file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
