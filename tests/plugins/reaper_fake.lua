-- A fake of exactly the REAPER API functions the Scenesplit ReaScripts call, recording a project
-- (tracks, items, takes, sources) in plain tables. Calling any other `reaper.X` is an error, so
-- a script that starts using a new API function fails here until the fake learns it.
-- Signatures and return values follow the ReaScript (Lua) API documentation.

local fake = { tracks = {}, messages = {}, undo = {}, project_path = "/tmp", ext_state = {} }

local function typed(kind, t)
  t.__kind = kind
  return t
end

local function check(value, kind, fn, arg)
  if type(value) ~= "table" or value.__kind ~= kind then
    error(string.format("%s: argument %d must be a %s, got %s", fn, arg, kind, tostring(value)), 3)
  end
end

local function check_type(value, lua_type, fn, arg)
  if type(value) ~= lua_type then
    error(string.format("%s: argument %d must be a %s, got %s", fn, arg, lua_type, type(value)), 3)
  end
end

local function index_of(track)
  for i, t in ipairs(fake.tracks) do
    if t == track then return i end
  end
end

-- helpers for the test scenario (not part of REAPER) -------------------------------------------

function fake.new_track(name)
  local t = typed("MediaTrack*", { name = name or "", depth = 0, items = {}, ext = {}, selected = false })
  return t
end

function fake.source(file)
  return typed("PCM_source*", { file = file, destroyed = false })
end

function fake.add_item(track, file, position, length, startoffs)
  local item = typed("MediaItem*", { position = position, length = length, takes = {}, selected = false, track = track })
  local take = typed("MediaItem_Take*", { source = fake.source(file), startoffs = startoffs or 0, name = "", item = item })
  item.takes[1] = take
  item.active = take
  track.items[#track.items + 1] = item
  return item
end

-- the API ---------------------------------------------------------------------------------------

local api = {}

function api.GetSelectedMediaItem(proj, idx)
  check_type(proj, "number", "GetSelectedMediaItem", 1)
  check_type(idx, "number", "GetSelectedMediaItem", 2)
  local n = 0
  for _, t in ipairs(fake.tracks) do
    for _, item in ipairs(t.items) do
      if item.selected then
        if n == idx then return item end
        n = n + 1
      end
    end
  end
  return nil
end

function api.GetActiveTake(item)
  check(item, "MediaItem*", "GetActiveTake", 1)
  return item.active
end

function api.GetMediaItemTake_Source(take)
  check(take, "MediaItem_Take*", "GetMediaItemTake_Source", 1)
  return take.source
end

function api.GetMediaSourceFileName(source, buf)
  check(source, "PCM_source*", "GetMediaSourceFileName", 1)
  if source.destroyed then error("GetMediaSourceFileName: source was destroyed", 2) end
  return source.file
end

local ITEM_KEYS = { D_POSITION = "position", D_LENGTH = "length" }

function api.GetMediaItemInfo_Value(item, key)
  check(item, "MediaItem*", "GetMediaItemInfo_Value", 1)
  if not ITEM_KEYS[key] then error("GetMediaItemInfo_Value: key not faked: " .. tostring(key), 2) end
  return item[ITEM_KEYS[key]]
end

function api.SetMediaItemInfo_Value(item, key, value)
  check(item, "MediaItem*", "SetMediaItemInfo_Value", 1)
  check_type(value, "number", "SetMediaItemInfo_Value", 3)
  if not ITEM_KEYS[key] then error("SetMediaItemInfo_Value: key not faked: " .. tostring(key), 2) end
  item[ITEM_KEYS[key]] = value
  return true
end

function api.GetMediaItemTakeInfo_Value(take, key)
  check(take, "MediaItem_Take*", "GetMediaItemTakeInfo_Value", 1)
  if key ~= "D_STARTOFFS" then error("GetMediaItemTakeInfo_Value: key not faked: " .. tostring(key), 2) end
  return take.startoffs
end

function api.GetSetMediaItemTakeInfo_String(take, key, value, set)
  check(take, "MediaItem_Take*", "GetSetMediaItemTakeInfo_String", 1)
  check_type(value, "string", "GetSetMediaItemTakeInfo_String", 3)
  check_type(set, "boolean", "GetSetMediaItemTakeInfo_String", 4)
  if key ~= "P_NAME" then error("GetSetMediaItemTakeInfo_String: key not faked: " .. key, 2) end
  if set then take.name = value end
  return true, take.name
end

function api.CountTracks(proj)
  check_type(proj, "number", "CountTracks", 1)
  return #fake.tracks
end

function api.GetTrack(proj, idx)
  check_type(proj, "number", "GetTrack", 1)
  return fake.tracks[idx + 1]
end

function api.InsertTrackAtIndex(idx, want_defaults)
  check_type(idx, "number", "InsertTrackAtIndex", 1)
  check_type(want_defaults, "boolean", "InsertTrackAtIndex", 2)
  table.insert(fake.tracks, math.min(idx, #fake.tracks) + 1, fake.new_track(""))
end

function api.GetSetMediaTrackInfo_String(track, key, value, set)
  check(track, "MediaTrack*", "GetSetMediaTrackInfo_String", 1)
  check_type(key, "string", "GetSetMediaTrackInfo_String", 2)
  check_type(value, "string", "GetSetMediaTrackInfo_String", 3)
  check_type(set, "boolean", "GetSetMediaTrackInfo_String", 4)
  if key == "P_NAME" then
    if set then track.name = value end
    return true, track.name
  end
  local ext = key:match("^P_EXT:(.+)$")
  if not ext then error("GetSetMediaTrackInfo_String: key not faked: " .. key, 2) end
  if set then track.ext[ext] = value end
  -- REAPER answers false (and "") for an extended-state key that was never set
  return track.ext[ext] ~= nil, track.ext[ext] or ""
end

function api.SetMediaTrackInfo_Value(track, key, value)
  check(track, "MediaTrack*", "SetMediaTrackInfo_Value", 1)
  check_type(value, "number", "SetMediaTrackInfo_Value", 3)
  if key ~= "I_FOLDERDEPTH" then error("SetMediaTrackInfo_Value: key not faked: " .. key, 2) end
  track.depth = math.floor(value)
  return true
end

function api.GetParentTrack(track)
  check(track, "MediaTrack*", "GetParentTrack", 1)
  local stack = {}
  for _, t in ipairs(fake.tracks) do
    if t == track then return stack[#stack] end
    if t.depth == 1 then
      stack[#stack + 1] = t
    elseif t.depth < 0 then
      for _ = 1, -t.depth do stack[#stack] = nil end
    end
  end
  error("GetParentTrack: track is not in the project", 2)
end

function api.GetSelectedTrack(proj, idx)
  check_type(proj, "number", "GetSelectedTrack", 1)
  local n = 0
  for _, t in ipairs(fake.tracks) do
    if t.selected then
      if n == idx then return t end
      n = n + 1
    end
  end
  return nil
end

function api.CountTrackMediaItems(track)
  check(track, "MediaTrack*", "CountTrackMediaItems", 1)
  return #track.items
end

function api.GetTrackMediaItem(track, idx)
  check(track, "MediaTrack*", "GetTrackMediaItem", 1)
  return track.items[idx + 1]
end

function api.AddMediaItemToTrack(track)
  check(track, "MediaTrack*", "AddMediaItemToTrack", 1)
  assert(index_of(track), "AddMediaItemToTrack: track is not in the project")
  local item = typed("MediaItem*", { position = 0, length = 0, takes = {}, selected = false, track = track })
  track.items[#track.items + 1] = item
  return item
end

function api.AddTakeToMediaItem(item)
  check(item, "MediaItem*", "AddTakeToMediaItem", 1)
  local take = typed("MediaItem_Take*", { startoffs = 0, name = "", item = item })
  item.takes[#item.takes + 1] = take
  item.active = item.active or take
  return take
end

function api.PCM_Source_CreateFromFile(file)
  check_type(file, "string", "PCM_Source_CreateFromFile", 1)
  -- REAPER returns a source even for a missing file (offline); the test checks the files exist
  return fake.source(file)
end

function api.SetMediaItemTake_Source(take, source)
  check(take, "MediaItem_Take*", "SetMediaItemTake_Source", 1)
  check(source, "PCM_source*", "SetMediaItemTake_Source", 2)
  take.source = source
  return true
end

function api.PCM_Source_Destroy(source)
  check(source, "PCM_source*", "PCM_Source_Destroy", 1)
  source.destroyed = true
end

function api.GetProjectPath(buf)
  return fake.project_path
end

function api.RecursiveCreateDirectory(path, ignored)
  check_type(path, "string", "RecursiveCreateDirectory", 1)
  os.execute("mkdir -p '" .. path:gsub("'", "'\\''") .. "'")
  return 1
end

function api.ShowMessageBox(msg, title, kind)
  check_type(msg, "string", "ShowMessageBox", 1)
  fake.messages[#fake.messages + 1] = msg
  return 1
end

function api.Undo_BeginBlock() fake.undo[#fake.undo + 1] = "begin" end

function api.Undo_EndBlock(desc, flags)
  check_type(desc, "string", "Undo_EndBlock", 1)
  check_type(flags, "number", "Undo_EndBlock", 2)
  fake.undo[#fake.undo + 1] = desc
end

function api.UpdateArrange() end

function api.PreventUIRefresh(delta)
  check_type(delta, "number", "PreventUIRefresh", 1)
end

reaper = setmetatable({}, {
  __index = function(_, name)
    local fn = api[name]
    if not fn then error("reaper." .. tostring(name) .. " is not in the fake (add it faithfully)", 2) end
    return fn
  end,
})

-- state as JSON for the test -------------------------------------------------------------------

local function encode(v)
  local t = type(v)
  if t == "nil" then return "null" end
  if t == "boolean" or t == "number" then return tostring(v) end
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
  end
  if #v > 0 or next(v) == nil then
    local parts = {}
    for _, x in ipairs(v) do parts[#parts + 1] = encode(x) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = encode(tostring(k)) .. ":" .. encode(x) end
  return "{" .. table.concat(parts, ",") .. "}"
end
fake.encode = encode

function fake.state()
  local tracks = {}
  for _, t in ipairs(fake.tracks) do
    local items = {}
    for _, item in ipairs(t.items) do
      local take = item.active
      items[#items + 1] = {
        position = item.position,
        length = item.length,
        file = take and take.source and take.source.file,
        take_name = take and take.name,
      }
    end
    local parent = reaper.GetParentTrack(t)
    tracks[#tracks + 1] = {
      name = t.name, depth = t.depth, ext = t.ext, items = items,
      parent = parent and parent.name,
    }
  end
  return { tracks = tracks, messages = fake.messages, undo = fake.undo }
end

function fake.dump(path)
  local f = assert(io.open(path, "w"))
  f:write(encode(fake.state()))
  f:close()
end

return fake
