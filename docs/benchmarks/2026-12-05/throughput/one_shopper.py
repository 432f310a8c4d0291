"""One shopper at a time against a running `shopbot run --preset demo`: 30 turns of each kind.

python one_shopper.py BEARER_SECRET   # the REST secret `shopbot run` prints
"""

import json
import statistics
import sys
import time
import urllib.request
import uuid

URL = "http://127.0.0.1:5005/webhooks/rest/webhook"
HEADERS = {"Authorization": f"Bearer {sys.argv[1]}", "Content-Type": "application/json"}


def say(sender: str, text: str) -> float:
    """Send one message; the milliseconds until the reply."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    started = time.perf_counter()
    urllib.request.urlopen(urllib.request.Request(URL, body, HEADERS), timeout=60).read()
    return 1000 * (time.perf_counter() - started)


for text in ["hello", "thanks", "how much is the Guillow Airplane Design Studio?"]:
    for _ in range(3):  # warm-up
        say(f"warm-{uuid.uuid4().hex}", text)
    times = []
    for _ in range(30):
        sender = f"one-{uuid.uuid4().hex}"
        if text == "thanks":
            say(sender, "hello")  # thanks ends a conversation
        times.append(say(sender, text))
        time.sleep(0.3)
    times.sort()
    p95 = times[int(0.95 * len(times)) - 1]
    print(f"{text!r}: one shopper, p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms")
