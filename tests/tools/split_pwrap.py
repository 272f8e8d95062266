#!/usr/bin/python3
"""Pass stderr through to the terminal as it arrives (prompts have no newline),
but divert pam_wrapper's own log lines (PWRAP_...) to the file in argv[1]."""
import os
import sys

TAG = b"PWRAP_"
log = open(sys.argv[1], "ab")
pending, diverting = b"", False
while True:
    chunk = os.read(0, 4096)
    if not chunk:
        break
    for byte in chunk:
        ch = bytes([byte])
        if diverting:
            log.write(ch)
            if ch == b"\n":
                diverting = False
                log.flush()
            continue
        pending += ch
        if TAG.startswith(pending) and len(pending) < len(TAG):
            continue  # could still become a PWRAP_ line
        if pending.startswith(TAG):
            log.write(pending)
            diverting, pending = True, b""
            continue
        os.write(2, pending)
        pending = b""
os.write(2, pending)
log.close()
