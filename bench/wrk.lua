-- Requests for `python -m bench`, one scenario per wrk run, picked by BENCH_SCENARIO:
--   get     the URL given to wrk, as it is
--   create  POST BENCH_PATH: half-hour entries on BENCH_PROJECT with BENCH_TAG, end to end
--           from BENCH_START (epoch seconds), so that they never overlap
--   update  PATCH BENCH_PATH/<id> with If-Match, going round the "id version" lines of
--           BENCH_POOL and keeping each entry's version from the responses
--   timer   the users on the "token timer-path user-id" lines of BENCH_USERS start and stop
--           their timers in turn
-- BENCH_TOKEN authenticates every scenario but timer. Each of BENCH_THREADS threads takes its
-- own share of the pool and the users, so no two threads write the same entry or user.
-- done() prints one line, BENCH_RESULT and JSON, for the runner.

local scenario = os.getenv("BENCH_SCENARIO")
local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
local sent = 0

wrk.headers["Content-Type"] = "application/json"
if os.getenv("BENCH_TOKEN") then
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end

-- In the main state: number the threads. `rank` becomes a global of each thread's state.
local threads_seen = 0
function setup(thread)
  thread:set("rank", threads_seen)
  threads_seen = threads_seen + 1
end

-- This thread's share of the lines of the file named by `variable`, each split into fields.
local function my_lines(variable)
  local lines, number = {}, 0
  for line in io.lines(os.getenv(variable)) do
    if number % threads == rank then
      local fields = {}
      for field in line:gmatch("%S+") do
        fields[#fields + 1] = field
      end
      lines[#lines + 1] = fields
    end
    number = number + 1
  end
  return lines
end

-- wrk.format takes the headers it is given instead of wrk.headers, not on top of them.
local function with_headers(extra)
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  for name, value in pairs(extra) do
    headers[name] = value
  end
  return headers
end

local function iso(epoch)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", epoch)
end

if scenario == "create" then
  local path, project, tag = os.getenv("BENCH_PATH"), os.getenv("BENCH_PROJECT"), os.getenv("BENCH_TAG")
  local first = tonumber(os.getenv("BENCH_START"))

  function request()
    local start = first + (sent * threads + rank) * 1800
    sent = sent + 1
    local body = string.format(
      '{"project_id":"%s","tag_ids":["%s"],"description":"bench %d","start_at":"%s","end_at":"%s"}',
      project, tag, sent, iso(start), iso(start + 1800))
    return wrk.format("POST", path, nil, body)
  end
elseif scenario == "update" then
  local path = os.getenv("BENCH_PATH")
  local ids, versions = {}, {}

  function init()
    for _, fields in ipairs(my_lines("BENCH_POOL")) do
      ids[#ids + 1] = fields[1]
      versions[fields[1]] = tonumber(fields[2])
    end
  end

  function request()
    local id = ids[sent % #ids + 1]
    sent = sent + 1
    local version = versions[id]
    -- A new description each time, so that every request really writes.
    local body = string.format('{"description":"bench update %d"}', version + 1)
    return wrk.format("PATCH", path .. "/" .. id, with_headers({["If-Match"] = '"' .. version .. '"'}), body)
  end

  function response(status, headers, body)
    if status == 200 then
      versions[body:match('"id":"([^"]+)"')] = tonumber(body:match('"version":(%d+)'))
    end
  end
elseif scenario == "timer" then
  -- A user's next request goes out only once the answer to their last one is in, so that
  -- no user's start and stop ever race. The answer says whose entry it is and whether it
  -- runs; the first request of each user is a start, which works whatever runs already.
  local users, index_of, running = nil, {}, {}
  local ready, first, last = {}, 1, 0

  local function make_ready(index)
    last = last + 1
    ready[last] = index
  end

  function init()
    users = my_lines("BENCH_USERS")
    for index, user in ipairs(users) do
      index_of[user[3]] = index
      make_ready(index)
    end
  end

  function request()
    local index = ready[first]
    if index then
      ready[first] = nil
      first = first + 1
    else
      -- Only once failed answers, which name no user, have used every user up.
      index = sent % #users + 1
    end
    sent = sent + 1
    local user = users[index]
    local headers = with_headers({Authorization = "Bearer " .. user[1]})
    if running[index] then
      return wrk.format("POST", user[2] .. "/stop", headers)
    end
    return wrk.format("POST", user[2] .. "/start", headers, '{"description":"bench timer"}')
  end

  function response(status, headers, body)
    local index = index_of[body:match('"user_id":"([^"]+)"')]
    if index then
      running[index] = body:find('"end_at":null', 1, true) ~= nil
      make_ready(index)
    end
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"seconds":%.6f,"p50_ms":%.3f,"p99_ms":%.3f,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors.connect + errors.read + errors.write + errors.timeout))
end
