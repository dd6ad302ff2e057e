-- Scenesplit for REAPER: what both actions share (JSON, running the engine's CLI, tracks).
-- Loaded with dofile() by the action scripts beside it; returns a module table.

local M = {}

M.SECTION = "scenesplit"
M.RESULT_KEY = "P_EXT:scenesplit_result" -- on the folder track: its current result folder
M.LABEL_KEY = "P_EXT:scenesplit_label" -- on a stem track: the class its stem was extracted as
M.FOLDER_NAME = "Scenesplit"

local WINDOWS = package.config:sub(1, 1) == "\\"
local SEP = WINDOWS and "\\" or "/"

-- JSON --------------------------------------------------------------------------------------
-- A small decoder for what the engine writes (manifest.json): objects, arrays, strings with
-- escapes (\uXXXX with surrogate pairs), numbers, true/false; null becomes nil.

local function decode_error(text, pos, what)
  error(string.format("bad JSON at character %d: %s", pos, what), 0)
end

local function skip(text, pos)
  return text:find("[^ \t\r\n]", pos) or #text + 1
end

local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function decode_string(text, pos) -- pos is just after the opening quote
  local out = {}
  while true do
    local stop = text:find('["\\]', pos)
    if not stop then decode_error(text, pos, "unterminated string") end
    out[#out + 1] = text:sub(pos, stop - 1)
    if text:sub(stop, stop) == '"' then return table.concat(out), stop + 1 end
    local c = text:sub(stop + 1, stop + 1)
    if c == "u" then
      local code = tonumber(text:sub(stop + 2, stop + 5), 16)
      if not code then decode_error(text, stop, "bad \\u escape") end
      pos = stop + 6
      if code >= 0xD800 and code <= 0xDBFF and text:sub(pos, pos + 1) == "\\u" then
        local low = tonumber(text:sub(pos + 2, pos + 5), 16)
        if low and low >= 0xDC00 and low <= 0xDFFF then
          code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
          pos = pos + 6
        end
      end
      out[#out + 1] = utf8.char(code)
    elseif ESCAPES[c] then
      out[#out + 1] = ESCAPES[c]
      pos = stop + 2
    else
      decode_error(text, stop, "bad escape \\" .. c)
    end
  end
end

local decode_value

local function decode_container(text, pos, close, item)
  local result = {}
  pos = skip(text, pos)
  if text:sub(pos, pos) == close then return result, pos + 1 end
  while true do
    pos = item(result, pos)
    pos = skip(text, pos)
    local c = text:sub(pos, pos)
    if c == close then return result, pos + 1 end
    if c ~= "," then decode_error(text, pos, "expected ',' or '" .. close .. "'") end
    pos = skip(text, pos + 1)
  end
end

decode_value = function(text, pos)
  pos = skip(text, pos)
  local c = text:sub(pos, pos)
  if c == "{" then
    return decode_container(text, pos + 1, "}", function(obj, p)
      if text:sub(p, p) ~= '"' then decode_error(text, p, "expected a key") end
      local key
      key, p = decode_string(text, p + 1)
      p = skip(text, p)
      if text:sub(p, p) ~= ":" then decode_error(text, p, "expected ':'") end
      obj[key], p = decode_value(text, p + 1)
      return p
    end)
  elseif c == "[" then
    return decode_container(text, pos + 1, "]", function(arr, p)
      local v
      v, p = decode_value(text, p)
      arr[#arr + 1] = v -- (a null inside an array is dropped)
      return p
    end)
  elseif c == '"' then
    return decode_string(text, pos + 1)
  end
  if text:sub(pos, pos + 3) == "true" then return true, pos + 4 end
  if text:sub(pos, pos + 4) == "false" then return false, pos + 5 end
  if text:sub(pos, pos + 3) == "null" then return nil, pos + 4 end
  local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  if num and #num > 0 and tonumber(num) then return tonumber(num), pos + #num end
  decode_error(text, pos, "unexpected '" .. c .. "'")
end

--- Decode a JSON text into Lua values (objects and arrays become tables).
function M.json_decode(text)
  local value, pos = decode_value(text, 1)
  pos = skip(text, pos)
  if pos <= #text then decode_error(text, pos, "trailing characters") end
  return value
end

-- Files and the engine's CLI ----------------------------------------------------------------

function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

function M.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

function M.join(...)
  return table.concat({ ... }, SEP)
end

function M.basename(path)
  local name = (path:match("([^/\\]+)$") or path):gsub("%.[^.]*$", "")
  return name
end

function M.quote(arg)
  if WINDOWS then return '"' .. arg:gsub('"', '\\"') .. '"' end
  return "'" .. arg:gsub("'", "'\\''") .. "'"
end

--- The scenesplit command: $SCENESPLIT_COMMAND, else scenesplit_config.lua beside the
--- scripts (written by `scenesplit plugins install reaper`), else `scenesplit` on PATH.
function M.command(script_dir)
  local env = os.getenv("SCENESPLIT_COMMAND")
  if env and env ~= "" then return env end
  local config = M.join(script_dir:gsub("[/\\]$", ""), "scenesplit_config.lua")
  if M.exists(config) then
    local ok, cfg = pcall(dofile, config)
    if ok and type(cfg) == "table" and cfg.command then return M.quote(cfg.command) end
  end
  return "scenesplit"
end

--- Run `command args...`; returns its stdout, or nil and a message with the end of its log.
function M.run(command, args, log_path)
  local parts = { command }
  for _, a in ipairs(args) do parts[#parts + 1] = M.quote(a) end
  local line = table.concat(parts, " ") .. " 2>" .. M.quote(log_path)
  local pipe = io.popen(line, "r")
  if not pipe then return nil, "could not start: " .. line end
  local out = pipe:read("a")
  local ok, _, code = pipe:close()
  if ok then return out end
  local log = M.read_file(log_path) or ""
  local tail = log:gsub("\r", "\n"):match("([^\n]+)\n*$") or ""
  return nil, string.format("%s failed (exit %s)\n%s\n(full log: %s)", command, tostring(code), tail, log_path)
end

--- The manifest of a result folder, decoded; nil and a message when unreadable.
function M.load_manifest(dir)
  local text = M.read_file(M.join(dir, "manifest.json"))
  if not text then return nil, dir .. ": no manifest.json (not a Scenesplit result)" end
  local ok, value = pcall(M.json_decode, text)
  if not ok then return nil, dir .. "/manifest.json: " .. value end
  return value
end

function M.stem_of(manifest, label, dir)
  for _, t in ipairs(manifest.tracks or {}) do
    if t.label == label then return M.join(dir, t.file) end
  end
end

-- REAPER ------------------------------------------------------------------------------------

function M.say(message)
  reaper.ShowMessageBox(message, "Scenesplit", 0)
end

function M.track_string(track, key, value)
  if value ~= nil then
    reaper.GetSetMediaTrackInfo_String(track, key, value, true)
    return value
  end
  local _, current = reaper.GetSetMediaTrackInfo_String(track, key, "", false)
  return current
end

--- Point the active take of every item on `track` at `file` (the old source is released).
function M.replace_sources(track, file)
  for i = 0, reaper.CountTrackMediaItems(track) - 1 do
    local take = reaper.GetActiveTake(reaper.GetTrackMediaItem(track, i))
    if take then
      local old = reaper.GetMediaItemTake_Source(take)
      reaper.SetMediaItemTake_Source(take, reaper.PCM_Source_CreateFromFile(file))
      if old then reaper.PCM_Source_Destroy(old) end
    end
  end
end

return M
