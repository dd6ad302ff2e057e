"""Per-package labelling rules of the source corpus (DATA.md): which file is which class.

Each rule is (regular expression on the path inside the package, label). The first matching rule
wins; files no rule matches are ignored. Labels are a target class, "interference" or
"background". Order matters where a class must be kept out of another (claps before drums:
no claps in Percussion; glass only in Dishes; keyboard programs never interference).
"""

from __future__ import annotations

from dataclasses import dataclass

INTERFERENCE = "interference"
BACKGROUND = "background"


@dataclass(frozen=True)
class PackageRules:
    """What to take from one Debian package."""

    package: str
    licence: str
    rules: tuple[tuple[str, str], ...]
    containers: tuple[str, ...] = ()  # zip archives inside the package to open (e.g. .pk3)


PACKAGES: dict[str, PackageRules] = {
    p.package: p
    for p in (
        PackageRules("bucklespring-data", "GPL-2+", ((r"buckle/wav/.*\.wav$", "Typing"),)),
        PackageRules(
            "sound-theme-freedesktop",
            "CC-BY-SA / GPL-2+",
            (
                (r"alarm-clock-elapsed\.oga$", "AlarmClock"),
                (r"audio-channel-.*\.oga$", "Speech"),
                (r"audio-test-signal\.oga$", "skip"),
                (r"stereo/.*\.oga$", INTERFERENCE),
            ),
        ),
        PackageRules(
            "lomiri-sounds",
            "CC-BY / CC-BY-SA / CC0",
            (
                (r"lomiri/ringtones/Alarm[^/]*\.(ogg|wav)$", "AlarmClock"),
                (r"lomiri/ringtones/Melody piano\.ogg$", "skip"),  # keyboard: not interference
                (r"lomiri/(ringtones|notifications|camera)/.*\.(ogg|wav)$", INTERFERENCE),
            ),
        ),
        PackageRules(
            "minetest-data",
            "CC-BY-SA-3.0 / CC0",
            (
                (r"_footstep[^/]*\.ogg$", "FootSteps"),
                (
                    r"(doors_(door|fencegate|glass_door|steel_door)_(open|close)|default_chest_(open|close))\.ogg$",
                    "CupboardOpenClose",
                ),
                (
                    r"(env_sounds_water|env_sounds_lava|fire_fire|fire_large|fire_small|default_furnace_active)[^/]*\.ogg$",
                    BACKGROUND,
                ),
                (r"minetest_game/mods/.*/sounds/.*\.ogg$", INTERFERENCE),
            ),
        ),
        PackageRules(
            "minetest-mod-homedecor",
            "CC-BY-SA-4.0",
            (
                (r"homedecor_doorbell\.ogg$", "Doorbell"),
                (r"homedecor_faucet\.ogg$", "Pour"),
                (r"homedecor/.*/sounds/.*\.ogg$", INTERFERENCE),
            ),
        ),
        PackageRules(
            "ktuberling-data",
            "GPL-2+",
            ((r"ktuberling/sounds/[^/]+/.*\.(ogg|wav)$", "Speech"),),
        ),
        PackageRules(
            "lmms-common",
            "GPL-2+ / CC-BY-SA",
            (
                (r"samples/(drums/clap\d+|misc/applause\d+)\.ogg$", "Clapping"),
                (r"samples/(drums|beats)/.*\.ogg$", "Percussion"),
                (
                    r"samples/instruments/(piano|e_piano|e_organ|church_organ|harpsichord)[^/]*\.ogg$",
                    "MusicalKeyboard",
                ),
                (r"samples/misc/buzz!\.ogg$", "Buzzer"),
                (r"samples/(instruments|latin)/.*\.ogg$", INTERFERENCE),
                (
                    r"samples/misc/(dong|metalish_dong|electric_ping|breath|raving_crowd|hit)[^/]*\.ogg$",
                    INTERFERENCE,
                ),
                (r"samples/effects/(explode|scratch|wind_chimes)[^/]*\.ogg$", INTERFERENCE),
            ),
        ),
        PackageRules(
            "ufoai-sound",
            "GPL-2+ / CC",
            (
                (
                    r"sound/footsteps/(carpet|dirt|grass|gravel|linoleum|metal|sand|snow|stone|tile|wood)\d*\.ogg$",
                    "FootSteps",
                ),
                (r"sound/doors/.*\.ogg$", "CupboardOpenClose"),
                (r"sound/misc/breakglass\d+\.ogg$", INTERFERENCE),
                (
                    r"sound/ambience/(hum|hum2|machine1|minepump03|lights_loop|steam|water\d*|waterfontain|arcticwind|city_abnd_ufoai_atm|sand-city|ufo_night_atm|firesoft|cricket_loop)\.ogg$",
                    BACKGROUND,
                ),
                (r"sound/(ambience|ugv|impact|misc|seq|aliens)/.*\.ogg$", INTERFERENCE),
            ),
            containers=("0snd.pk3",),
        ),
        PackageRules(
            "sonic-pi-samples",
            "CC0 (mostly)",
            (
                (r"/(bd|sn|drum|perc|tabla|elec)_[^/]*\.(flac|wav)$", "Percussion"),
                (
                    r"/loop_(amen|breakbeat|compus|industrial|mika|safari|tabla)[^/]*\.(flac|wav)$",
                    "Percussion",
                ),
                (r"/ambi_[^/]*\.(flac|wav)$", BACKGROUND),
                (r"/(guit|bass|misc|vinyl)_[^/]*\.(flac|wav)$", INTERFERENCE),
            ),
        ),
        PackageRules(
            "hydrogen-drumkits",
            "GPL-2 / CC-BY-SA / CC0",
            (
                (r"(?i)/[^/]*(hand ?clap|clap)[^/]*\.(wav|flac)$", "Clapping"),
                (r"(?i)/[^/]*glass[^/]*\.(wav|flac)$", "Dishes"),
                (r"(?i)hydrogen/data/drumkits/.*\.(wav|flac)$", "Percussion"),
            ),
        ),
        PackageRules(
            "tuxpaint-stamps-default",
            "GPL-2 / CC-BY-SA",
            (
                (r"_desc(_[A-Za-z@]+)?\.(ogg|wav)$", "Speech"),
                (r"(?i)vacuum[^/]*\.(ogg|wav)$", "VacuumCleaner"),
                (r"(?i)/(dishes|plate|cup)[^/]*\.(ogg|wav)$", "Dishes"),
                (
                    r"tuxpaint/stamps/(animals|vehicles|hobbies|town|seasonal|space|food|military|household|sports)/.*\.(ogg|wav)$",
                    INTERFERENCE,
                ),
            ),
        ),
        PackageRules(
            "hedgewars-data",
            "GPL-2 / CC-BY-SA",
            ((r"(?i)/Sounds/voices/[^/]+/PoisonCough\.ogg$", "Cough"),),
        ),
    )
}

SMALL_PACKAGES = (
    "bucklespring-data",
    "minetest-data",
    "sound-theme-freedesktop",
    "lomiri-sounds",
    "lmms-common",
    "ktuberling-data",
    "minetest-mod-homedecor",
)
