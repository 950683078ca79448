-- wrk script for bench/webhook.py: replays pre-signed Twilio webhooks, each exactly once.
-- Each wrk thread takes every Nth line of the file, so no MessageSid is sent twice.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  requests, index, n = {}, 0, 0
  for line in io.lines(path) do
    if n % nthreads == id then
      local body, signature = line:match("^([^\t]+)\t(.+)$")
      requests[#requests + 1] = wrk.format("POST", "/twilio/messages", {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = signature,
      }, body)
    end
    n = n + 1
  end
  sent, errors, acked = 0, 0, 0
end

function request()
  index = index + 1
  if index > #requests then
    -- Out of unique messages: ask for the health check instead (counted separately).
    return wrk.format("GET", "/healthz")
  end
  sent = sent + 1
  return requests[index]
end

function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 else acked = acked + 1 end
end

function done(summary, latency, requests)
  local sent_total, error_total, acked_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    sent_total = sent_total + thread:get("sent")
    error_total = error_total + thread:get("errors")
    acked_total = acked_total + thread:get("acked")
  end
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "sent": %d, "acked": %d, "non200": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    sent_total, acked_total, error_total, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
