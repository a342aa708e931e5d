"""Timing shared by the Python sides of the benchmarks (daf_butler_bench.py, bindings_bench.py):
p50/p90 in microseconds of an operation run up to a number of times within a time budget."""
import statistics
import time


def percentiles(samples):
    ordered = sorted(samples)

    def at(fraction):
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    return {"p50": statistics.median(ordered), "p90": at(0.9), "count": len(ordered)}


def timed(operation, iterations, warmup, budget_seconds):
    """Runs `operation(index)` `warmup` times untimed, then up to `iterations` times or until the
    budget is spent; returns percentiles in microseconds."""
    for index in range(warmup):
        operation(index)
    samples = []
    deadline = time.perf_counter() + budget_seconds
    for index in range(iterations):
        start = time.perf_counter_ns()
        operation(warmup + index)
        samples.append((time.perf_counter_ns() - start) / 1e3)
        if time.perf_counter() > deadline and len(samples) >= 5:
            break
    return percentiles(samples)
