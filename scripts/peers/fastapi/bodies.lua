-- wrk: POSTs the JSON bodies of a file (one per line) in turn, each thread from its own share, so
-- no body is sent twice in a run shorter than the share. Arguments after `--`:
--   FILE FIRST COUNT THREADS [DELAY_MS]
-- the lines FIRST+1 .. FIRST+COUNT of FILE are this run's, split between THREADS (wrk's -t);
-- with DELAY_MS each connection waits that long before each request (a paced load instead of as
-- fast as it can). The API key is in the environment: BENCH_KEY.
local bodies, cursor = {}, 1
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  local first, count, threads = tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  local share = math.floor(count / threads)
  local start = first + id * share
  local line_number = 0
  for line in io.lines(args[1]) do
    line_number = line_number + 1
    if line_number > start and line_number <= start + share then
      table.insert(bodies, line)
    end
  end
  if #bodies == 0 then
    error("no bodies in lines " .. start + 1 .. " to " .. start + share .. " of " .. args[1])
  end
  if args[5] then
    local pause = tonumber(args[5])
    delay = function()
      return pause
    end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
end

function request()
  local body = bodies[cursor]
  cursor = cursor % #bodies + 1
  return wrk.format(nil, nil, nil, body)
end
