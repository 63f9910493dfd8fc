-- wrk script: print one machine-readable line when the run is done.
-- WRK_RESULT requests duration_us socket_errors status_errors
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT %d %d %d %d\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status))
end
