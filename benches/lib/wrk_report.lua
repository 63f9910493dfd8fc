-- wrk script: print one machine-readable line when the run is done.
-- WRK_RESULT requests duration_us socket_errors status_errors bytes p50_us p99_us
--            connect_errors read_errors write_errors timeout_errors
-- socket_errors = connect + read + write + timeout; status_errors = responses
-- with a status above 399; p50/p99 from wrk's latency distribution (us).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT %d %d %d %d %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, summary.bytes,
    latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.timeout))
end
