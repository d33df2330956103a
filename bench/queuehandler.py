#!/usr/bin/env python3
"""The Python standard library's answer to "log to Slack without waiting":
logging.handlers.QueueHandler in the application, a QueueListener thread
whose handler posts ERROR records to Slack's chat.postMessage (urllib only).

make bench runs it against the Slack emulator, next to the Go example app,
and reads the one JSON line it prints:

    python3 bench/queuehandler.py --api-url http://127.0.0.1:PORT/api/ \\
        --token xoxb-emulator-token --count 100000 --errors 0.01

Every record goes into the queue (as the OpenTelemetry SDK ships every
record to the collector); the listener's handler has level ERROR and
respect_handler_level, so only errors are posted, one request per record.
The figures are the wall time of each logger call (time.perf_counter_ns).
The listener is not drained at the end: with a slow Slack that would take
(errors x latency); how many posts completed is reported instead.
"""

import argparse
import json
import logging
import logging.handlers
import os
import queue
import sys
import threading
import time
import urllib.parse
import urllib.request


class SlackHandler(logging.Handler):
    """Posts each record it handles to chat.postMessage, synchronously."""

    def __init__(self, api_url, token, channel):
        super().__init__(level=logging.ERROR)
        self.url = api_url.rstrip("/") + "/chat.postMessage"
        self.token = token
        self.channel = channel
        self.posted = 0
        self.failed = 0
        self.counts_lock = threading.Lock()

    def emit(self, record):
        data = urllib.parse.urlencode(
            {"channel": self.channel, "text": self.format(record)}
        ).encode()
        req = urllib.request.Request(
            self.url, data=data, headers={"Authorization": "Bearer " + self.token}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                resp.read()
            with self.counts_lock:
                self.posted += 1
        except Exception:  # a logging handler must not raise
            with self.counts_lock:
                self.failed += 1


def percentile(sorted_ns, p):
    """Nearest rank, as the Go example app computes it."""
    if not sorted_ns:
        return 0
    i = (len(sorted_ns) * p + 99) // 100
    return sorted_ns[max(i - 1, 0)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--api-url", required=True, help="Web API base URL, e.g. http://127.0.0.1:PORT/api/")
    ap.add_argument("--token", required=True)
    ap.add_argument("--channel", default="#py-queuehandler")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--errors", type=float, default=0.01, help="fraction of the calls that log an ERROR")
    args = ap.parse_args()

    slack = SlackHandler(args.api_url, args.token, args.channel)
    q = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(q, slack, respect_handler_level=True)
    logger = logging.getLogger("app")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(logging.handlers.QueueHandler(q))
    listener.start()

    took = [0] * args.count
    clock = time.perf_counter_ns
    errors = 0
    for i in range(args.count):
        if errors < args.errors * (i + 1):
            errors += 1
            start = clock()
            logger.error("payment declined by provider order_id=ord-%d http.status_code=402", 10000 + i)
            took[i] = clock() - start
            continue
        start = clock()
        logger.info("request served http.route=/api/cart/{id} http.status_code=200 duration_ms=%d", 3 + i % 17)
        took[i] = clock() - start

    took.sort()
    with slack.counts_lock:
        posted, failed = slack.posted, slack.failed
    print(json.dumps({
        "calls": args.count,
        "errors": errors,
        "p50_ns": percentile(took, 50),
        "p99_ns": percentile(took, 99),
        "max_ns": took[-1],
        "posted_by_end": posted,
        "post_failures_by_end": failed,
        "python": sys.version.split()[0],
    }), flush=True)
    # Not listener.stop(): that would wait for every queued post.
    os._exit(0)


if __name__ == "__main__":
    main()
