-- @description Scenesplit: separate selected item
-- @about Splits the selected item's audio (its take's file, the part the item plays) into one
--   track per detected sound class, in a "Scenesplit" folder, at the item's position.
--   Needs the `scenesplit` command (see `scenesplit plugins install reaper`).

local script_dir = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or "./"
local S = dofile(script_dir .. "scenesplit_lib.lua")

local function main()
  local item = reaper.GetSelectedMediaItem(0, 0)
  if not item then return S.say("Select an audio item to separate first.") end
  local take = reaper.GetActiveTake(item)
  if not take then return S.say("The selected item has no active take.") end
  local file = reaper.GetMediaSourceFileName(reaper.GetMediaItemTake_Source(take), "")
  if not file or file == "" or not S.exists(file) then
    return S.say("The selected take has no audio file on disk (MIDI, or a missing file?).")
  end
  local position = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
  local length = reaper.GetMediaItemInfo_Value(item, "D_LENGTH")
  local offset = reaper.GetMediaItemTakeInfo_Value(take, "D_STARTOFFS")

  -- One result folder per separation, in the project's media folder.
  local root = S.join(reaper.GetProjectPath(""), "Scenesplit")
  local out = S.join(root, string.format("%s_%.3f_%d", S.basename(file), offset, os.time()))
  local n = 1
  while S.exists(S.join(out, "manifest.json")) do
    n = n + 1
    out = out:gsub("_%d+$", "") .. "_" .. n
  end
  local log = out .. ".log"
  reaper.RecursiveCreateDirectory(root, 0)
  local args = {
    "separate", file, "-o", out, "--json",
    "--start", string.format("%.6f", math.max(0, offset)),
    "--duration", string.format("%.6f", length),
  }
  local _, err = S.run(S.command(script_dir), args, log)
  if err then return S.say("Separation failed:\n" .. err) end
  local manifest, merr = S.load_manifest(out)
  if not manifest then return S.say(merr) end
  if #(manifest.tracks or {}) == 0 then
    return S.say("No sound class was detected in this item (result: " .. out .. ").")
  end

  reaper.Undo_BeginBlock()
  reaper.PreventUIRefresh(1)
  local index = reaper.CountTracks(0)
  reaper.InsertTrackAtIndex(index, true)
  local folder = reaper.GetTrack(0, index)
  S.track_string(folder, "P_NAME", S.FOLDER_NAME)
  S.track_string(folder, S.RESULT_KEY, out)
  reaper.SetMediaTrackInfo_Value(folder, "I_FOLDERDEPTH", 1)
  for i, t in ipairs(manifest.tracks) do
    reaper.InsertTrackAtIndex(index + i, true)
    local track = reaper.GetTrack(0, index + i)
    S.track_string(track, "P_NAME", t.label)
    S.track_string(track, S.LABEL_KEY, t.label)
    -- the last child closes the folder
    reaper.SetMediaTrackInfo_Value(track, "I_FOLDERDEPTH", i == #manifest.tracks and -1 or 0)
    local stem_item = reaper.AddMediaItemToTrack(track)
    local stem_take = reaper.AddTakeToMediaItem(stem_item)
    reaper.SetMediaItemTake_Source(stem_take, reaper.PCM_Source_CreateFromFile(S.join(out, t.file)))
    reaper.GetSetMediaItemTakeInfo_String(stem_take, "P_NAME", t.label, true)
    reaper.SetMediaItemInfo_Value(stem_item, "D_POSITION", position)
    reaper.SetMediaItemInfo_Value(stem_item, "D_LENGTH", length)
  end
  reaper.PreventUIRefresh(-1)
  reaper.UpdateArrange()
  reaper.Undo_EndBlock("Scenesplit: separate selected item", -1)
end

main()
