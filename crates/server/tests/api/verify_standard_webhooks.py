"""Verifies captured deliveries with the standardwebhooks library (PyPI), as a receiver would.

Reads a JSON list of {"key", "headers", "body"} on stdin; prints a JSON list with "ok" or the
library's error for each.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook

results = []
for case in json.load(sys.stdin):
    try:
        Webhook(case["key"]).verify(case["body"], case["headers"])
        results.append("ok")
    except Exception as error:  # the library's verification errors and bad keys alike
        results.append(f"{type(error).__name__}: {error}")
print(json.dumps(results))
