"""Operations tooling: autoscaling, health probes, the counters and query shapes the benchmarks and tests read."""
