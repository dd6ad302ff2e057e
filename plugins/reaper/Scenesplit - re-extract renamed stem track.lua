-- @description Scenesplit: re-extract renamed stem track
-- @about Rename a stem track in a "Scenesplit" folder to another sound class (e.g. Speech ->
--   Typing), select it and run this: the engine re-extracts that track with the new class
--   and every stem track of the folder switches to the new version of the result.

local script_dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or "./"
local S = dofile(script_dir .. "scenesplit_lib.lua")

local function next_version(dir)
  local base = dir:gsub("_v%d+$", "")
  local k = 2
  while S.exists(S.join(base .. "_v" .. k, "manifest.json")) do k = k + 1 end
  return base .. "_v" .. k
end

local function main()
  local track = reaper.GetSelectedTrack(0, 0)
  if not track then return S.say("Select the stem track you renamed first.") end
  local old = S.track_string(track, S.LABEL_KEY)
  local folder = reaper.GetParentTrack(track)
  local result = folder and S.track_string(folder, S.RESULT_KEY) or ""
  if old == "" or result == "" then
    return S.say("The selected track is not a stem track of a Scenesplit folder.")
  end
  local new = S.track_string(track, "P_NAME")
  if new == old then
    return S.say("Rename the track to the class it should be (e.g. " .. old .. " -> Typing), then run this again.")
  end
  local out = next_version(result)
  local args = { "refine", result, "--change-track", old .. "=" .. new, "-o", out, "--json" }
  local _, err = S.run(S.command(script_dir), args, out .. ".log")
  if err then return S.say("Re-extraction failed:\n" .. err) end
  local manifest, merr = S.load_manifest(out)
  if not manifest then return S.say(merr) end
  local stem = S.stem_of(manifest, new, out)
  if not stem then return S.say("The engine found no " .. new .. " where " .. old .. " was.") end

  reaper.Undo_BeginBlock()
  S.replace_sources(track, stem)
  S.track_string(track, S.LABEL_KEY, new)
  S.track_string(folder, S.RESULT_KEY, out)
  -- The other stems of the folder move to the new version too (unchanged ones are the same audio).
  local first = reaper.CountTracks(0)
  for i = 0, reaper.CountTracks(0) - 1 do
    if reaper.GetTrack(0, i) == folder then first = i + 1 end
  end
  for i = first, reaper.CountTracks(0) - 1 do
    local child = reaper.GetTrack(0, i)
    if reaper.GetParentTrack(child) ~= folder then break end
    local label = S.track_string(child, S.LABEL_KEY)
    local file = child ~= track and S.stem_of(manifest, label, out)
    if file then S.replace_sources(child, file) end
  end
  reaper.UpdateArrange()
  reaper.Undo_EndBlock("Scenesplit: re-extract " .. old .. " as " .. new, -1)
end

main()
