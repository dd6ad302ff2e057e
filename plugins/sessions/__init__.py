"""DAW session files for a separation result: REAPER projects and Audacity LOF lists.

They take the manifest (as the engine client returns it: plain JSON data) and the folder that
holds its stems, and place every clip at its original time so the DAW shows the scene as heard.
"""

from plugins.sessions.audacity import write_lof
from plugins.sessions.reaper import write_rpp

__all__ = ["write_lof", "write_rpp"]
