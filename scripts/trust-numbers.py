#!/usr/bin/env python3
"""The capture numbers of the README's trust section.

A committee of n executors is drawn by bond without replacement; an attacker with a share s of
the active bond, split over many validators, holds each seat with a probability close to s. It
captures the committee when it holds the quorum, ceil(2n/3), and blocks it when it holds
n - quorum + 1 seats. Prints, per committee size, the chance of capture at a few shares, the
largest share whose chance stays below p, the chance of blocking, what grinding k draws
(padding a block with jobs, possible while the seed was the parent block's hash) gave, and what
vetoing gives: the author of a draw block, a share s of the slots, withholds the block whenever
the draw does not capture, handing the draw to the next slot's author.

    python3 scripts/trust-numbers.py
"""
from math import comb


def quorum(n: int) -> int:
    return max(1, -(-2 * n // 3))


def at_least(seats: int, n: int, s: float) -> float:
    return sum(comb(n, k) * s**k * (1 - s) ** (n - k) for k in range(seats, n + 1))


def capture(n: int, s: float) -> float:
    return at_least(quorum(n), n, s)


def block(n: int, s: float) -> float:
    return at_least(n - quorum(n) + 1, n, s)


def with_vetoes(p: float, s: float) -> float:
    """Capture chance when an attacker authoring each draw block with chance s vetoes bad draws:
    the draw is repeated while the attacker holds the draw slot, k extra times with chance
    (1 - s) s^k."""
    return 1 - (1 - p) * (1 - s) / (1 - s * (1 - p))


def largest_share(n: int, p: float) -> float:
    low, high = 0.0, 1.0
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if capture(n, middle) <= p else (low, middle)
    return low


def main() -> None:
    shares = (0.10, 0.20, 0.33)
    targets = (1e-2, 1e-4, 1e-6)
    print("n quorum | capture at s=" + ",".join(f"{s:.0%}" for s in shares)
          + " | largest s for p=" + ",".join(f"{p:g}" for p in targets)
          + " | block at s=" + ",".join(f"{s:.0%}" for s in shares))
    for n in (3, 5, 7, 11):
        print(
            f"{n} {quorum(n)} | "
            + ", ".join(f"{capture(n, s):.4%}" for s in shares)
            + " | "
            + ", ".join(f"{largest_share(n, p):.2%}" for p in targets)
            + " | "
            + ", ".join(f"{block(n, s):.2%}" for s in shares)
        )
    draws = 32
    for n in (3, 5):
        for s in (0.10, 0.20):
            grind = 1 - (1 - capture(n, s)) ** draws
            print(f"grinding {draws} draws: n={n} s={s:.0%} captures with {grind:.1%}")
    for n in (3, 5):
        for s in (0.10, 0.20):
            vetoed = with_vetoes(capture(n, s), s)
            print(f"vetoing draws: n={n} s={s:.0%} captures with {vetoed:.2%}")


if __name__ == "__main__":
    main()
