"""A backline client written the way a Python user would: `websockets` and `msgpack`.

Driven by test/e2e/python-client.test.ts, which starts the server and checks what this
prints: one JSON line with every answer the server gave. msgpack writes integers of 2^32
and up (epoch ms) as uint64, and `msgpack.Timestamp` as the timestamp extension (ext -1).

Environment: BACKLINE_WS (ws://host:port), BACKLINE_HTTP, BACKLINE_KEY, BACKLINE_USER and
BACKLINE_USER_TOKEN. If an answer does not come, the line still holds the answers so far
and the reason in `failed`, so the test shows what the server said.
"""

import asyncio
import json
import os
import time
import urllib.request

import msgpack
import websockets

WS = os.environ["BACKLINE_WS"]
HTTP = os.environ["BACKLINE_HTTP"]
KEY = os.environ["BACKLINE_KEY"]
USER = os.environ["BACKLINE_USER"]
TOKEN = os.environ["BACKLINE_USER_TOKEN"]

SUB_ID = 2**40 + 7  # a live subscription id that msgpack writes as uint64
ORDER = 2**63 + 5  # a props integer past 2^53: must come back exact
TIMEOUT_S = 15


async def until(ws, wanted):
    """The next message whose `t` is in `wanted` (or an error), skipping others."""
    while True:
        message = msgpack.unpackb(await asyncio.wait_for(ws.recv(), TIMEOUT_S))
        if message["t"] in wanted or message["t"] == "error":
            return message


async def until_window(live, clicks):
    """The first window update of the subscription that has counted `clicks` events."""
    while True:
        message = await until(live, ("window",))
        if message["t"] == "error" or message["w"]["values"]["clicks"] >= clicks:
            return message


def events(now):
    clicks = [
        {
            "id": f"py-click-{i}",
            "type": "py.click",
            "ts": now,
            "sentAt": now,
            "userId": USER,
            "props": {"order": ORDER, "bytes": 2**40},
        }
        for i in range(3)
    ]
    stamps = [
        # 32-bit timestamp (whole seconds) and 64-bit one (with nanoseconds).
        {"id": "py-stamp-32", "type": "py.stamp", "ts": msgpack.Timestamp(now // 1000, 0)},
        {
            "id": "py-stamp-64",
            "type": "py.stamp",
            "ts": msgpack.Timestamp(now // 1000, (now % 1000) * 1_000_000 + 1),
        },
    ]
    return clicks + stamps


def post_http(now):
    body = msgpack.packb(
        {"seq": 2**40, "events": [{"id": "py-http-1", "type": "py.http", "ts": now}]}
    )
    request = urllib.request.Request(
        f"{HTTP}/v1/events?key={KEY}",
        data=body,
        headers={"content-type": "application/msgpack"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        return json.loads(response.read())


async def main(out):
    now = int(time.time() * 1000)
    out["now"] = now
    async with websockets.connect(f"{WS}/v1/user?token={TOKEN}") as user, websockets.connect(
        f"{WS}/v1/live?key={KEY}"
    ) as live, websockets.connect(f"{WS}/v1/ingest?key={KEY}") as ingest:
        out["userCounts"] = await until(user, ("counts",))
        await live.send(msgpack.packb({"t": "sub", "id": SUB_ID, "stream": "py_orders"}))
        out["snapshot"] = await until(live, ("snapshot",))
        await live.send(msgpack.packb({"t": "sub", "id": 2**64 - 1, "stream": "py_orders"}))
        out["hugeSubId"] = await until(live, ("snapshot",))

        batch = events(now)
        await ingest.send(msgpack.packb({"t": "events", "seq": 1, "events": batch}))
        out["ack"] = await until(ingest, ("ack",))
        await ingest.send(msgpack.packb({"t": "events", "seq": 5_000_000_001, "events": batch}))
        out["resentAck"] = await until(ingest, ("ack",))
        out["window"] = await until_window(live, 3)

        await ingest.send(msgpack.packb({"t": "events", "seq": 2**60, "events": []}))
        out["hugeSeq"] = await until(ingest, ("ack",))

        signup = {"id": "py-signup", "type": "py.signup", "ts": now, "userId": USER}
        await ingest.send(
            msgpack.packb({"t": "events", "seq": 5_000_000_002, "events": [signup]})
        )
        out["signupAck"] = await until(ingest, ("ack",))
        out["notification"] = await until(user, ("notification",))
        await user.send(msgpack.packb({"t": "read", "ids": [out["notification"]["n"]["id"]]}))
        out["marked"] = await until(user, ("marked",))
        out["countsAfterRead"] = await until(user, ("counts",))

    out["http"] = post_http(now)


answers = {}
try:
    asyncio.run(main(answers))
except Exception as err:  # noqa: BLE001 - any failure is reported to the test, with the answers
    answers["failed"] = f"{err!r} after {list(answers)[-1:]}"
print(json.dumps(answers))
