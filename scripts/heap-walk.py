#!/usr/bin/env python3
"""Walk glibc's main heap of a running process and say where its free space is.

Usage: scripts/heap-walk.py PID   (root, or the process's own user with ptrace allowed)

Stop the process first (`kill -STOP PID`, then `kill -CONT PID`) so that the heap does not
change under the walk. It reads the `[heap]` mapping from /proc/PID/mem and follows glibc's
chunk headers (each chunk's size word; a chunk is in use when the next one's PREV_INUSE bit
is set, so chunks cached in tcache or fastbins count as in use). It prints the heap's size,
the bytes in use and free (and the top chunk), which live chunk sizes follow the free holes
of 2 KiB or more (what keeps those holes from merging), and how long those live runs are.
docs/BENCHMARKS.md ("Memory with four destinations") shows what it found in icsfwd.
"""
import collections
import struct
import sys


def heap_of(pid):
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            if "[heap]" in line:
                start, end = (int(x, 16) for x in line.split()[0].split("-"))
                with open(f"/proc/{pid}/mem", "rb") as mem:
                    mem.seek(start)
                    return mem.read(end - start)
    sys.exit(f"process {pid} has no [heap] mapping")


def chunks_of(data):
    """(offset, size, in_use) of each chunk; the last one (top) is free."""
    chunks = []
    off = 0
    while off + 16 <= len(data):
        size = struct.unpack_from("<Q", data, off + 8)[0] & ~7
        if size < 16 or off + size > len(data):
            break
        chunks.append([off, size, False])
        off += size
    for this, after in zip(chunks, chunks[1:]):
        this[2] = bool(struct.unpack_from("<Q", data, after[0] + 8)[0] & 1)
    return chunks


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    data = heap_of(sys.argv[1])
    chunks = chunks_of(data)
    if not chunks:
        sys.exit("no chunk found at the heap's start")
    used = sum(c[1] for c in chunks if c[2])
    free = sum(c[1] for c in chunks if not c[2])
    print(f"heap {len(data)} B, {len(chunks)} chunks: in use {used} B, free {free} B "
          f"(of it the top chunk {chunks[-1][1]} B)")
    count, total, runs = collections.Counter(), collections.Counter(), collections.Counter()
    for i, (_, size, in_use) in enumerate(chunks):
        if in_use or size < 2048:
            continue
        j = i + 1
        while j < len(chunks) and chunks[j][2]:
            count[chunks[j][1]] += 1
            total[chunks[j][1]] += chunks[j][1]
            j += 1
        runs[min(j - i - 1, 10)] += 1
    print("live chunks right after a free hole of 2 KiB or more, by size:")
    for size, _ in total.most_common(25):
        print(f"  {size:7d} B x {count[size]:5d} = {total[size]} B")
    print("live chunks between two such holes (10: ten or more):", sorted(runs.items()))


if __name__ == "__main__":
    main()
