"""Demo community for Peerdesk: "Lumen Home", a fictional smart-home company, and its customers.

Plain data, loaded by ``manage.py load_demo`` (knowledge/management/commands/load_demo.py) through
the real services, so the demo has the same revisions, audit entries and articles as real use.
All names, products, error codes and text are invented for this demo.

Shapes (times are relative, so the demo always looks recent):

- ``AREAS``: ``slug``, ``name``, ``description``.
- ``ACCOUNTS``: ``username``, ``email``, ``display_name``, ``role`` (one of ``ROLES``), ``bio``,
  ``joined_days_ago``, and for experts ``certified_for`` (area slugs).
- ``THREADS``: ``area``, ``author``, ``days_ago`` (when asked), ``title``, ``body`` (Markdown),
  ``tags``, optional ``votes`` ({username: +1/-1}), ``comments`` and ``answers``.
  A comment is ``{"author", "after_hours", "body"}`` (hours after its post).
  An answer is ``{"author", "after_hours", "body"}`` (hours after the question) plus optional
  ``votes``, ``comments``, ``accepted`` (the asker accepts it), ``validated`` (``{"by",
  "after_hours", "note"}``, hours after the answer) and ``edit`` (``{"by", "after_hours", "body",
  "summary"}``, hours after the answer; when later than the validation, the article needs review).
"""

from __future__ import annotations

from typing import Any

# Demo-only credentials: every demo account shares this password. Never load the demo into a
# deployment that real people use (load_demo refuses when the database already has questions).
DEMO_PASSWORD = "peerdesk-demo"  # noqa: S105

ROLES = ("member", "expert", "csr", "moderator", "admin")

AREAS: list[dict[str, Any]] = [
    {
        "slug": "lumen-thermostat",
        "name": "Lumen Thermostat",
        "description": (
            "Installation, wiring, schedules, Eco mode and the Lumen Room Sensor for the "
            "Lumen Thermostat (2nd and 3rd generation)."
        ),
    },
    {
        "slug": "lumen-mesh-wifi",
        "name": "Lumen Mesh Wi-Fi",
        "description": (
            "The Lumen Mesh router and satellite points: setup, coverage, firmware, guest "
            "networks and connecting smart devices."
        ),
    },
    {
        "slug": "lumen-cam",
        "name": "Lumen Cam",
        "description": (
            "Lumen Cam Indoor, Outdoor and Doorbell: motion detection, night vision, batteries, "
            "clip storage and privacy settings."
        ),
    },
    {
        "slug": "lumen-app",
        "name": "Lumen App & Account",
        "description": (
            "The Lumen Home app for iOS and Android, sign-in, households and sharing, "
            "notifications, Lumen Protect subscriptions and billing."
        ),
    },
]

ACCOUNTS: list[dict[str, Any]] = [
    {
        "username": "maria",
        "email": "maria@lumen.example",
        "display_name": "Maria Santos",
        "role": "member",
        "bio": "Two kids, one old house, far too many gadgets.",
        "joined_days_ago": 80,
    },
    {
        "username": "jonas",
        "email": "jonas@lumen.example",
        "display_name": "Jonas Weber",
        "role": "member",
        "bio": "Network engineer by day, home-lab tinkerer by night.",
        "joined_days_ago": 88,
    },
    {
        "username": "aisha",
        "email": "aisha@lumen.example",
        "display_name": "Aisha Bello",
        "role": "member",
        "bio": "Renovating a 1930s flat one smart device at a time.",
        "joined_days_ago": 75,
    },
    {
        "username": "tom",
        "email": "tom@lumen.example",
        "display_name": "Tom Okafor",
        "role": "member",
        "bio": "",
        "joined_days_ago": 64,
    },
    {
        "username": "lena",
        "email": "lena@lumen.example",
        "display_name": "Lena Kowalski",
        "role": "member",
        "bio": "HVAC installer. Happy to help with wiring questions.",
        "joined_days_ago": 86,
    },
    {
        "username": "diego",
        "email": "diego@lumen.example",
        "display_name": "Diego Ramírez",
        "role": "member",
        "bio": "Small landlord, four flats, all with Lumen Cams at the entrances.",
        "joined_days_ago": 70,
    },
    {
        "username": "noor",
        "email": "noor@lumen.example",
        "display_name": "Noor Haddad",
        "role": "member",
        "bio": "",
        "joined_days_ago": 45,
    },
    {
        "username": "kenji",
        "email": "kenji@lumen.example",
        "display_name": "Kenji Mori",
        "role": "member",
        "bio": "Automation fan. If it has an API I have scripted it.",
        "joined_days_ago": 83,
    },
    {
        "username": "sam",
        "email": "sam@lumen.example",
        "display_name": "Sam Whitfield",
        "role": "member",
        "bio": "",
        "joined_days_ago": 30,
    },
    {
        "username": "greta",
        "email": "greta@lumen.example",
        "display_name": "Greta Lindqvist",
        "role": "member",
        "bio": "Retired teacher learning smart-home tech with my grandson.",
        "joined_days_ago": 52,
    },
    {
        "username": "erik",
        "email": "erik@lumen.example",
        "display_name": "Erik Johansson",
        "role": "expert",
        "bio": "Community expert for heating and networking. Ten years of HVAC and home networks.",
        "joined_days_ago": 90,
        "certified_for": ["lumen-thermostat", "lumen-mesh-wifi"],
    },
    {
        "username": "priya",
        "email": "priya@lumen.example",
        "display_name": "Priya Nair",
        "role": "expert",
        "bio": "Community expert for cameras and the app. I test every beta so you don't have to.",
        "joined_days_ago": 90,
        "certified_for": ["lumen-cam", "lumen-app"],
    },
    {
        "username": "carla",
        "email": "carla@lumen.example",
        "display_name": "Carla (Lumen Support)",
        "role": "csr",
        "bio": "Customer support at Lumen Home. I can look into orders, billing and warranty cases.",
        "joined_days_ago": 90,
    },
    {
        "username": "mo",
        "email": "mo@lumen.example",
        "display_name": "Mo (Community Team)",
        "role": "moderator",
        "bio": "Community moderator at Lumen Home. Please flag anything that needs my attention.",
        "joined_days_ago": 90,
    },
    {
        "username": "admin",
        "email": "admin@lumen.example",
        "display_name": "Lumen Admin",
        "role": "admin",
        "bio": "",
        "joined_days_ago": 90,
    },
]

# The moderator who grants the experts' certifications (a one-year term, granted this long ago).
CERTIFICATIONS_GRANTED_BY = "mo"
CERTIFICATIONS_GRANTED_DAYS_AGO = 75

THREADS: list[dict[str, Any]] = [
    # --- Lumen Thermostat ---------------------------------------------------------------------
    {
        "area": "lumen-thermostat",
        "author": "maria",
        "days_ago": 58.4,
        "title": "Thermostat shows E23 right after installation",
        "body": (
            "I replaced my old dial thermostat with a Lumen Thermostat (3rd gen) this weekend. "
            "It powered up, ran the setup wizard, and about ten minutes later the screen went "
            "dark and now only shows:\n\n```\nE23 - low power\n```\n\n"
            "My old thermostat had only two wires (red and white). Did I wire something wrong?"
        ),
        "tags": ["e23", "wiring", "installation"],
        "votes": {"aisha": 1, "tom": 1, "lena": 1, "greta": 1},
        "comments": [
            {
                "author": "lena",
                "after_hours": 1.5,
                "body": "Two wires usually means no C-wire. Can you post a photo of the wires behind the plate?",
            },
            {
                "author": "maria",
                "after_hours": 3,
                "body": "Only red (Rh) and white (W1), nothing else in the wall.",
            },
        ],
        "answers": [
            {
                "author": "erik",
                "after_hours": 4,
                "body": (
                    "`E23` means the thermostat cannot keep its battery charged. With only "
                    "`Rh` and `W1` it tries to *steal* power through the heating call, which "
                    "many boilers don't allow.\n\n"
                    "You have two options:\n\n"
                    "1. **Run a common wire (C-wire)** from the boiler or furnace control board "
                    "to the `C` terminal. Best option if there is a spare conductor in the cable.\n"
                    "2. **Install the Lumen Power Extender Kit (PEK)** at the furnace. It "
                    "creates a C-wire over your existing two wires.\n\n"
                    "Until then, charge the display over USB-C so it keeps your schedule."
                ),
                "votes": {"maria": 1, "lena": 1, "aisha": 1, "jonas": 1, "tom": 1},
                "accepted": True,
                "validated": {
                    "by": "mo",
                    "after_hours": 30,
                    "note": "Matches the installation guide; PEK is the supported fix.",
                },
                "edit": {
                    "by": "erik",
                    "after_hours": 700,
                    "summary": "Added the firmware 4.1 note about a reversed PEK.",
                    "body": (
                        "`E23` means the thermostat cannot keep its battery charged. With only "
                        "`Rh` and `W1` it tries to *steal* power through the heating call, which "
                        "many boilers don't allow.\n\n"
                        "You have two options:\n\n"
                        "1. **Run a common wire (C-wire)** from the boiler or furnace control "
                        "board to the `C` terminal. Best option if there is a spare conductor in "
                        "the cable.\n"
                        "2. **Install the Lumen Power Extender Kit (PEK)** at the furnace. It "
                        "creates a C-wire over your existing two wires.\n\n"
                        "Until then, charge the display over USB-C so it keeps your schedule.\n\n"
                        "**Update:** since firmware 4.1 the thermostat also shows `E23` when the "
                        "PEK module is connected the wrong way round. Check that the PEK's `R` "
                        "lead goes to the furnace's `R` terminal."
                    ),
                },
            },
            {
                "author": "sam",
                "after_hours": 9,
                "body": "Just put the red wire on C instead of Rh, that worked on my old one.",
                "votes": {"lena": -1, "erik": -1, "maria": -1},
                "comments": [
                    {
                        "author": "lena",
                        "after_hours": 1,
                        "body": "Please don't: with no Rh the thermostat can never call for heat.",
                    }
                ],
            },
        ],
    },
    {
        "area": "lumen-thermostat",
        "author": "aisha",
        "days_ago": 55.1,
        "title": "How do I set a different schedule for weekends?",
        "body": (
            "The schedule screen in the app shows one line for every day. I want to wake up to "
            "21 °C at 6:30 on weekdays but only at 9:00 on Saturday and Sunday. Is there a way "
            "to copy a day instead of editing all seven?"
        ),
        "tags": ["schedules", "lumen-app"],
        "votes": {"greta": 1, "noor": 1},
        "answers": [
            {
                "author": "greta",
                "after_hours": 2,
                "body": (
                    "Yes! Long-press a day in **Schedule**, choose **Copy day**, then tap every "
                    "day you want to paste it to. I set Monday up, copied it to Tue-Fri, then "
                    "did the same for Saturday → Sunday."
                ),
                "votes": {"aisha": 1, "erik": 1, "noor": 1},
                "accepted": True,
                "validated": {"by": "erik", "after_hours": 20, "note": ""},
            },
            {
                "author": "kenji",
                "after_hours": 5,
                "body": (
                    "If you like scripting: the schedule is also editable with a *routine* in "
                    "the app's Automations tab, but for this the copy-day trick is simpler."
                ),
                "votes": {"aisha": 1},
            },
        ],
    },
    {
        "area": "lumen-thermostat",
        "author": "tom",
        "days_ago": 51.7,
        "title": "Room Sensor battery drains in three weeks",
        "body": (
            "My Lumen Room Sensor in the bedroom eats a CR2032 coin cell every three weeks. The "
            "one in the living room lasts months. Both are on firmware `2.8.1`. Is the bedroom "
            "one faulty?"
        ),
        "tags": ["room-sensor", "battery"],
        "votes": {"maria": 1, "diego": 1},
        "answers": [
            {
                "author": "erik",
                "after_hours": 6,
                "body": (
                    "Most often this is a weak radio link: the sensor retries every report when "
                    "it is far from the thermostat, and every retry costs battery.\n\n"
                    "- Open **Sensors → Bedroom → Signal**. Anything below *Fair* is suspect.\n"
                    "- Move it away from metal radiators and mirrors.\n"
                    "- A Mesh point or a second thermostat nearby does **not** help; the sensor "
                    "talks only to the thermostat.\n\n"
                    "If the signal is *Good* and it still drains, ask support for a replacement."
                ),
                "votes": {"tom": 1, "maria": 1, "lena": 1},
                "accepted": True,
            },
        ],
    },
    {
        "area": "lumen-thermostat",
        "author": "lena",
        "days_ago": 47.0,
        "title": "Heat pump with O/B wire: which orientation does Lumen use?",
        "body": (
            "Installing for a customer with an air-source heat pump. The reversing valve wire "
            "is orange. Some brands energise O in cooling, others B in heating. Where do I set "
            "this on the Lumen Thermostat, and what is the default?"
        ),
        "tags": ["heat-pump", "wiring", "installation"],
        "votes": {"erik": 1, "jonas": 1, "aisha": 1},
        "answers": [
            {
                "author": "erik",
                "after_hours": 1,
                "body": (
                    "The default is **O (energise in cooling)**. Change it under "
                    "**Settings → Equipment → Heat pump → Reversing valve**.\n\n"
                    "| Setting | Valve energised in | Typical brands |\n"
                    "|---|---|---|\n"
                    "| O | Cooling | most |\n"
                    "| B | Heating | a few older units |\n\n"
                    "If heating and cooling are swapped after setup, flip this setting; no "
                    "rewiring needed."
                ),
                "votes": {"lena": 1, "jonas": 1, "tom": 1, "aisha": 1},
                "accepted": True,
            },
        ],
    },
    {
        "area": "lumen-thermostat",
        "author": "greta",
        "days_ago": 43.3,
        "title": "What does the green leaf on the display mean?",
        "body": (
            "Since yesterday a little green leaf appears next to the temperature. My grandson "
            "says it is good but I'd like to know what it actually does."
        ),
        "tags": ["eco-mode"],
        "votes": {"maria": 1},
        "answers": [
            {
                "author": "noor",
                "after_hours": 3,
                "body": (
                    "The leaf shows you are in an energy-saving range: your target is a few "
                    "degrees below your usual heating setpoint. It doesn't change anything by "
                    "itself, it is just a hint."
                ),
                "votes": {"greta": 1, "maria": 1},
                "accepted": True,
            },
            {
                "author": "tom",
                "after_hours": 7,
                "body": "It means Eco mode is on and the thermostat will ignore your schedule.",
                "votes": {"noor": -1, "erik": -1},
                "comments": [
                    {
                        "author": "erik",
                        "after_hours": 2,
                        "body": "Not quite: Eco mode shows an **ECO** badge; the leaf is only a hint.",
                    }
                ],
            },
        ],
    },
    {
        "area": "lumen-thermostat",
        "author": "diego",
        "days_ago": 38.9,
        "title": "Away Assist turns the heating off while my tenant is home",
        "body": (
            "One of my tenants works from home and the flat goes cold around noon. The app "
            "history shows `Away Assist: no motion for 2 h`. How do I stop this without "
            "turning Away Assist off for every flat?"
        ),
        "tags": ["away-assist", "geofencing", "schedules"],
        "votes": {"kenji": 1, "aisha": 1},
        "answers": [
            {
                "author": "kenji",
                "after_hours": 5,
                "body": (
                    "Away Assist is per thermostat, so you can switch it off just for that flat "
                    "(**Settings → Away Assist**). Better: add the tenant's phone to the "
                    "household so presence comes from their phone as well as the motion sensor."
                ),
                "votes": {"diego": 1, "erik": 1},
                "accepted": True,
                "validated": {"by": "erik", "after_hours": 12, "note": ""},
            },
            {
                "author": "lena",
                "after_hours": 8,
                "body": (
                    "Also check where the thermostat hangs: in a hallway it never sees someone "
                    "sitting at a desk in another room. A Room Sensor in the office helps."
                ),
                "votes": {"diego": 1, "kenji": 1},
            },
        ],
    },
    {
        "area": "lumen-thermostat",
        "author": "jonas",
        "days_ago": 33.2,
        "title": "Firmware 4.0 update stuck at 60 %",
        "body": (
            "The thermostat has shown *Installing update 60 %* for over an hour. Wi-Fi is fine "
            "(other devices work). Is it safe to pull it off the wall plate to restart?"
        ),
        "tags": ["firmware", "update"],
        "votes": {"tom": 1, "sam": 1},
        "answers": [
            {
                "author": "erik",
                "after_hours": 0.7,
                "body": (
                    "Yes. The update writes to a spare slot, so an interrupted install falls "
                    "back to the old version.\n\n"
                    "1. Pull the display off the base and wait 10 seconds.\n"
                    "2. Put it back; it boots the previous firmware.\n"
                    "3. In the app, **Settings → Software → Check for update** to retry.\n\n"
                    "If it stalls twice at the same step, reboot your router first."
                ),
                "votes": {"jonas": 1, "tom": 1, "sam": 1},
                "accepted": True,
            },
        ],
    },
    {
        "area": "lumen-thermostat",
        "author": "noor",
        "days_ago": 27.5,
        "title": "Thermostat reads 2 degrees higher than the room",
        "body": (
            "My Lumen Thermostat says 22 °C while two other thermometers in the room say "
            "20 °C. It hangs on an inside wall above a lamp. Can I calibrate it?"
        ),
        "tags": ["temperature", "calibration"],
        "votes": {"greta": 1},
        "answers": [
            {
                "author": "lena",
                "after_hours": 2,
                "body": (
                    "The lamp is your culprit: heat rises straight into the sensor. Move the "
                    "lamp or the thermostat first. If you still need it, **Settings → "
                    "Temperature → Offset** lets you correct up to ±3 °C."
                ),
                "votes": {"noor": 1, "erik": 1, "greta": 1},
                "accepted": True,
            },
        ],
    },
    {
        "area": "lumen-thermostat",
        "author": "sam",
        "days_ago": 16.8,
        "title": "Error E41 on the display every morning",
        "body": (
            "Every morning around 6:00 the thermostat shows:\n\n```\nE41 - no response from "
            "equipment\n```\n\nThe heating does come on a few minutes later. Combi boiler, "
            "OpenTherm connection. Should I worry?"
        ),
        "tags": ["e41", "opentherm", "boiler"],
        "votes": {"jonas": 1},
        "answers": [
            {
                "author": "lena",
                "after_hours": 4,
                "body": (
                    "E41 on OpenTherm means the boiler did not answer in time. Many combis "
                    "ignore the thermostat while they run their daily anti-legionella cycle, "
                    "which is often scheduled around 6:00. If heating starts after, it is "
                    "harmless; you can move the boiler's cycle in its own menu."
                ),
                "votes": {"sam": 1, "erik": 1},
            },
        ],
    },
    {
        "area": "lumen-thermostat",
        "author": "maria",
        "days_ago": 4.2,
        "title": "Can two thermostats share one schedule?",
        "body": (
            "We now have a Lumen Thermostat upstairs and one downstairs. I'd like them to "
            "follow the same schedule without setting it up twice. Is that possible?"
        ),
        "tags": ["schedules", "multiple-thermostats"],
        "votes": {"aisha": 1},
        "comments": [
            {
                "author": "greta",
                "after_hours": 6,
                "body": "Following, I'd like to know this too.",
            }
        ],
        "answers": [],
    },
    {
        "area": "lumen-thermostat",
        "author": "tom",
        "days_ago": 1.6,
        "title": "Humidity reading stuck at 0 % after the last update",
        "body": (
            "Since the update last night the humidity on the thermostat and in the app shows "
            "`0 %`. Temperature is still fine. Anyone else seeing this?"
        ),
        "tags": ["humidity", "firmware"],
        "answers": [],
    },
    # --- Lumen Mesh Wi-Fi ---------------------------------------------------------------------
    {
        "area": "lumen-mesh-wifi",
        "author": "jonas",
        "days_ago": 57.6,
        "title": "Mesh point LED keeps pulsing amber after setup",
        "body": (
            "The router is fine (solid white) but the second point in the upstairs office "
            "pulses amber. Setup in the app said *Point added*. What does amber mean?"
        ),
        "tags": ["led", "setup", "mesh-point"],
        "votes": {"maria": 1, "noor": 1, "kenji": 1},
        "answers": [
            {
                "author": "erik",
                "after_hours": 3,
                "body": (
                    "LED codes on the Lumen Mesh:\n\n"
                    "| LED | Meaning |\n|---|---|\n"
                    "| Solid white | Online, good link |\n"
                    "| Pulsing amber | Weak link to the nearest point |\n"
                    "| Solid amber | No link; point is isolated |\n"
                    "| Pulsing red | No internet on the router (WAN) |\n\n"
                    "Pulsing amber means it works but the backhaul is weak. Move the point "
                    "one room closer to the router, or connect it with Ethernet (wired "
                    "backhaul is detected automatically)."
                ),
                "votes": {"jonas": 1, "maria": 1, "kenji": 1, "noor": 1, "diego": 1},
                "accepted": True,
                "validated": {
                    "by": "mo",
                    "after_hours": 22,
                    "note": "LED table checked against the manual.",
                },
            },
        ],
    },
    {
        "area": "lumen-mesh-wifi",
        "author": "kenji",
        "days_ago": 53.0,
        "title": "Smart plugs only work on 2.4 GHz: can I split the bands?",
        "body": (
            "My old smart plugs refuse to join the Lumen Mesh network during their setup. "
            "They only support 2.4 GHz. The Lumen app has no option to make a 2.4-only SSID. "
            "What's the trick?"
        ),
        "tags": ["2-4ghz", "iot", "band-steering"],
        "votes": {"diego": 1, "sam": 1, "tom": 1},
        "answers": [
            {
                "author": "jonas",
                "after_hours": 2,
                "body": (
                    "Turn on **Wi-Fi → Advanced → IoT network**. It creates a separate SSID "
                    "that is 2.4 GHz only, with WPA2 instead of WPA3 (older chips choke on "
                    "WPA3 too). Put all your plugs on that one."
                ),
                "votes": {"kenji": 1, "erik": 1, "diego": 1, "sam": 1},
                "accepted": True,
                "validated": {"by": "erik", "after_hours": 10, "note": ""},
            },
            {
                "author": "sam",
                "after_hours": 6,
                "body": "Just disable 5 GHz on the router for ten minutes while you pair them.",
                "votes": {"jonas": -1},
                "comments": [
                    {
                        "author": "jonas",
                        "after_hours": 1,
                        "body": "Works, but then they drop off again whenever they reconnect.",
                    }
                ],
            },
        ],
    },
    {
        "area": "lumen-mesh-wifi",
        "author": "diego",
        "days_ago": 49.4,
        "title": "Bridge mode behind my ISP router?",
        "body": (
            "My ISP's box has to stay (it does the phone line). I'd like the Lumen Mesh "
            "behind it without double NAT. Is there a bridge / access point mode?"
        ),
        "tags": ["bridge-mode", "double-nat", "isp"],
        "votes": {"jonas": 1, "kenji": 1},
        "answers": [
            {
                "author": "erik",
                "after_hours": 5,
                "body": (
                    "Yes: **Settings → Network → Mode → Bridge**. In bridge mode the ISP box "
                    "hands out addresses and the Mesh only does Wi-Fi.\n\n"
                    "Keep in mind that in bridge mode these features are unavailable:\n\n"
                    "- guest network isolation\n- parental controls\n- device list names\n\n"
                    "Then turn off Wi-Fi on the ISP box so your devices don't roam onto it."
                ),
                "votes": {"diego": 1, "jonas": 1, "kenji": 1},
                "accepted": True,
                "validated": {"by": "mo", "after_hours": 60, "note": ""},
            },
        ],
    },
    {
        "area": "lumen-mesh-wifi",
        "author": "maria",
        "days_ago": 44.8,
        "title": "Guest network: can guests see my printer?",
        "body": (
            "We have visitors over the holidays. If I enable the guest network, can they reach "
            "our printer and the NAS? I'd prefer they only get internet."
        ),
        "tags": ["guest-network", "privacy", "security"],
        "votes": {"greta": 1, "aisha": 1},
        "answers": [
            {
                "author": "jonas",
                "after_hours": 1.5,
                "body": (
                    "By default the guest network is isolated: guests get internet only and "
                    "can't see anything on your main network, or each other. You can share the "
                    "printer explicitly under **Guest network → Shared devices** if you want."
                ),
                "votes": {"maria": 1, "greta": 1, "erik": 1},
                "accepted": True,
            },
        ],
    },
    {
        "area": "lumen-mesh-wifi",
        "author": "aisha",
        "days_ago": 39.6,
        "title": "Speed drops to 20 Mbit/s in the evening",
        "body": (
            "I pay for 250 Mbit/s. During the day the Lumen speed test shows ~240, but every "
            "evening from about 19:00 it falls to 20-30. Is my Mesh the bottleneck?"
        ),
        "tags": ["speed", "troubleshooting"],
        "votes": {"noor": 1},
        "answers": [
            {
                "author": "jonas",
                "after_hours": 3,
                "body": (
                    "The built-in speed test runs *from the router to the internet*, so Wi-Fi "
                    "isn't part of it. A drop there at peak hours points at your ISP's line. "
                    "Run the test a few evenings, then send the history screenshots to your ISP."
                ),
                "votes": {"aisha": 1, "erik": 1, "kenji": 1},
                "accepted": True,
            },
            {
                "author": "greta",
                "after_hours": 20,
                "body": "Maybe the neighbours are on your Wi-Fi? Change your password.",
                "votes": {"jonas": -1},
            },
        ],
    },
    {
        "area": "lumen-mesh-wifi",
        "author": "noor",
        "days_ago": 35.1,
        "title": "Port forwarding for a game server",
        "body": (
            "I want to host a small game server on my PC (UDP 27015). Where is port forwarding "
            "in the Lumen app? I only find *Port management* with a toggle for UPnP."
        ),
        "tags": ["port-forwarding", "upnp", "gaming"],
        "votes": {"kenji": 1, "sam": 1},
        "answers": [
            {
                "author": "kenji",
                "after_hours": 2,
                "body": (
                    "Tap **Port management → Add rule**:\n\n"
                    "```\nDevice:   your PC (reserve its IP first)\nProtocol: UDP\n"
                    "External: 27015\nInternal: 27015\n```\n\n"
                    "Reserve the PC's IP under **Devices → your PC → Reserve IP**, otherwise the "
                    "rule breaks when the lease changes."
                ),
                "votes": {"noor": 1, "jonas": 1, "erik": 1},
                "accepted": True,
            },
        ],
    },
    {
        "area": "lumen-mesh-wifi",
        "author": "greta",
        "days_ago": 29.9,
        "title": "Router pulses red after a power cut",
        "body": (
            "We had a power cut this morning. Since then the main Lumen router pulses red and "
            "nothing has internet. The fibre box lights look normal. What should I try?"
        ),
        "tags": ["led", "no-internet", "wan"],
        "votes": {"maria": 1},
        "answers": [
            {
                "author": "erik",
                "after_hours": 0.8,
                "body": (
                    "Pulsing red means no internet on the WAN port. After a power cut the order "
                    "matters:\n\n1. Unplug the Lumen router.\n2. Restart the fibre box and wait "
                    "until its lights are steady (2-3 min).\n3. Plug the Lumen router back in.\n\n"
                    "The app shows `M-104 no WAN address` when the fibre box wasn't ready."
                ),
                "votes": {"greta": 1, "maria": 1},
                "accepted": True,
            },
            {
                "author": "carla",
                "after_hours": 5,
                "body": (
                    "If Erik's steps don't help, contact us from **App → Help → Contact "
                    "support** and we'll check the router's logs remotely with your permission."
                ),
                "votes": {"greta": 1},
            },
        ],
    },
    {
        "area": "lumen-mesh-wifi",
        "author": "tom",
        "days_ago": 22.4,
        "title": "Does Lumen Mesh support WPA3 only mode?",
        "body": (
            "All my devices are new. I'd like to force WPA3 (no WPA2 fallback). Is there a "
            "setting for that, or does mixed mode stay on?"
        ),
        "tags": ["wpa3", "security"],
        "answers": [
            {
                "author": "jonas",
                "after_hours": 12,
                "body": (
                    "Since firmware 3.2 there's **Wi-Fi → Security → WPA3 only**. Double-check "
                    "TVs and consoles first; some still only do WPA2 even when recent."
                ),
                "votes": {"tom": 1},
            },
        ],
    },
    {
        "area": "lumen-mesh-wifi",
        "author": "sam",
        "days_ago": 3.1,
        "title": "How many mesh points before performance gets worse?",
        "body": (
            "Big house with thick stone walls. I have a router plus 3 points. Will adding a "
            "4th and 5th point help, or do too many points slow everything down?"
        ),
        "tags": ["mesh-point", "coverage"],
        "answers": [],
    },
    # --- Lumen Cam ----------------------------------------------------------------------------
    {
        "area": "lumen-cam",
        "author": "diego",
        "days_ago": 56.3,
        "title": "Outdoor cam battery lasts only a week",
        "body": (
            "The Lumen Cam Outdoor at the front entrance of one building needs charging every "
            "7 days. The box says up to 6 months. It faces a busy street. Settings:\n\n"
            "- Motion sensitivity: high\n- Clip length: 60 s\n- Night vision: auto"
        ),
        "tags": ["battery", "motion-detection", "cam-outdoor"],
        "votes": {"kenji": 1, "tom": 1, "maria": 1},
        "answers": [
            {
                "author": "priya",
                "after_hours": 2,
                "body": (
                    "The 6 months assume about 10 recordings a day. A busy street triggers "
                    "hundreds. In this order:\n\n"
                    "1. Draw **activity zones** around the door only, excluding the pavement.\n"
                    "2. Set **clip length** to *Auto* (stops when motion stops).\n"
                    "3. Turn sensitivity down to *medium*.\n\n"
                    "For entrances with constant traffic, the solar panel or the mains adapter "
                    "is the realistic fix."
                ),
                "votes": {"diego": 1, "kenji": 1, "tom": 1, "noor": 1},
                "accepted": True,
                "validated": {"by": "mo", "after_hours": 28, "note": ""},
            },
        ],
    },
    {
        "area": "lumen-cam",
        "author": "aisha",
        "days_ago": 52.2,
        "title": "Night vision image is all white and washed out",
        "body": (
            "My indoor cam sits on a windowsill looking out at the garden. In the day it's "
            "fine; at night the picture is a white haze and I can't see anything."
        ),
        "tags": ["night-vision", "cam-indoor"],
        "votes": {"greta": 1, "sam": 1},
        "answers": [
            {
                "author": "kenji",
                "after_hours": 1,
                "body": (
                    "That's the infrared light reflecting off the window. Either turn "
                    "**Night vision → IR lights** off and light the garden, or press the lens "
                    "flat against the glass so the IR LEDs can't bounce back into it."
                ),
                "votes": {"aisha": 1, "priya": 1, "greta": 1},
                "accepted": True,
                "validated": {"by": "priya", "after_hours": 15, "note": "Classic IR glare."},
            },
        ],
    },
    {
        "area": "lumen-cam",
        "author": "maria",
        "days_ago": 48.5,
        "title": "Privacy: can I make sure the indoor cam never records when we're home?",
        "body": (
            "I like the cam for when we are away, but I don't want it recording the family "
            "in the living room. Is there an automatic way, and does the lens shutter really "
            "cut recording?"
        ),
        "tags": ["privacy", "cam-indoor", "geofencing"],
        "votes": {"aisha": 1, "greta": 1, "noor": 1, "diego": 1},
        "answers": [
            {
                "author": "priya",
                "after_hours": 3,
                "body": (
                    "Use **Privacy → Home/Away**: when the household is home (based on your "
                    "phones), the cam closes its shutter and stops both video *and* audio. "
                    "With the shutter closed nothing is recorded or streamed; the app shows "
                    "*Privacy mode* instead of the live view.\n\n"
                    "The status light turns off too, so you can check at a glance."
                ),
                "votes": {"maria": 1, "aisha": 1, "greta": 1, "noor": 1},
                "accepted": True,
            },
            {
                "author": "carla",
                "after_hours": 20,
                "body": (
                    "To add to Priya's answer: clips from before you enable privacy mode keep "
                    "their normal retention. You can delete them all under **Account → "
                    "Privacy → Delete recordings**."
                ),
                "votes": {"maria": 1, "priya": 1},
            },
        ],
    },
    {
        "area": "lumen-cam",
        "author": "tom",
        "days_ago": 41.7,
        "title": "Camera offline with error C-07 after changing router",
        "body": (
            "I replaced my old router with a new one (same SSID and password). Two of three "
            "cams came back; the doorbell shows `C-07 offline` in the app. Power-cycled twice."
        ),
        "tags": ["c-07", "offline", "doorbell"],
        "votes": {"jonas": 1},
        "answers": [
            {
                "author": "priya",
                "after_hours": 4,
                "body": (
                    "`C-07` means the camera can't complete the Wi-Fi handshake. Same SSID and "
                    "password isn't enough if the security type changed: the doorbell only "
                    "supports WPA2 (not WPA3-only). Either switch the router to WPA2/WPA3 "
                    "mixed, or re-run **Device → Wi-Fi → Change network** on the doorbell."
                ),
                "votes": {"tom": 1, "jonas": 1, "kenji": 1},
                "accepted": True,
            },
        ],
    },
    {
        "area": "lumen-cam",
        "author": "kenji",
        "days_ago": 37.0,
        "title": "Can I get an RTSP stream from Lumen Cam?",
        "body": (
            "I run a local NVR and would like to pull the video from the cams over RTSP. "
            "I can't find a setting. Is it supported?"
        ),
        "tags": ["rtsp", "local-storage", "integration"],
        "votes": {"jonas": 1, "diego": 1, "sam": 1},
        "answers": [
            {
                "author": "priya",
                "after_hours": 6,
                "body": (
                    "Not at the moment. The cams stream end-to-end encrypted to the app only. "
                    "Local options today are the microSD card (continuous recording) and the "
                    "Home Assistant integration for snapshots and events."
                ),
                "votes": {"kenji": 1, "diego": 1},
            },
            {
                "author": "sam",
                "after_hours": 9,
                "body": "Try rtsp://<cam-ip>:554/live, that works on most cameras.",
                "votes": {"priya": -1, "kenji": -1},
            },
        ],
    },
    {
        "area": "lumen-cam",
        "author": "greta",
        "days_ago": 31.4,
        "title": "Share the doorbell with my son without giving him my password",
        "body": (
            "My son wants to see who rings at my door when I'm not well. How do I give him "
            "access to only the doorbell, not the other cameras?"
        ),
        "tags": ["sharing", "doorbell", "household"],
        "votes": {"maria": 1, "noor": 1},
        "answers": [
            {
                "author": "noor",
                "after_hours": 2,
                "body": (
                    "Invite him to your household: **App → Household → Invite**, then set his "
                    "role to *Guest* and tick only **Front doorbell**. He uses his own account "
                    "and you can remove him any time."
                ),
                "votes": {"greta": 1, "maria": 1, "priya": 1},
                "accepted": True,
                "validated": {"by": "mo", "after_hours": 18, "note": ""},
            },
        ],
    },
    {
        "area": "lumen-cam",
        "author": "noor",
        "days_ago": 26.0,
        "title": "Motion alerts for every passing car",
        "body": (
            "I get 40 notifications a day from the driveway cam, nearly all cars on the road. "
            "I already lowered sensitivity. Any other ideas?"
        ),
        "tags": ["motion-detection", "notifications", "cam-outdoor"],
        "votes": {"diego": 1},
        "answers": [
            {
                "author": "diego",
                "after_hours": 3,
                "body": (
                    "Two things helped me a lot: **activity zones** that exclude the road, and "
                    "**Smart alerts → People only** (needs Lumen Protect). The car alerts "
                    "disappeared completely."
                ),
                "votes": {"noor": 1, "priya": 1, "kenji": 1},
                "accepted": True,
            },
        ],
    },
    {
        "area": "lumen-cam",
        "author": "jonas",
        "days_ago": 19.3,
        "title": "Does the microSD recording keep working without internet?",
        "body": (
            "If my internet goes down, does the Lumen Cam Indoor keep recording to the "
            "microSD card? And can I watch those clips later?"
        ),
        "tags": ["local-storage", "microsd", "offline"],
        "answers": [
            {
                "author": "priya",
                "after_hours": 5,
                "body": (
                    "Yes. With a card inserted it records continuously regardless of the "
                    "connection. Once online, the clips show up in the timeline with a small "
                    "SD icon. Use a card rated for video (A1/V30 or better)."
                ),
                "votes": {"jonas": 1},
            },
        ],
    },
    {
        "area": "lumen-cam",
        "author": "sam",
        "days_ago": 8.7,
        "title": "Doorbell chime doesn't ring after installing Lumen Doorbell",
        "body": (
            "The doorbell itself works and I get phone notifications, but the old mechanical "
            "chime in the hallway stays silent. Transformer is 16 V AC."
        ),
        "tags": ["doorbell", "chime", "installation"],
        "comments": [
            {
                "author": "priya",
                "after_hours": 10,
                "body": "Did you set the chime type to *Mechanical* in the doorbell settings?",
            }
        ],
        "answers": [],
    },
    {
        "area": "lumen-cam",
        "author": "aisha",
        "days_ago": 2.4,
        "title": "Can the outdoor cam be mounted upside down?",
        "body": (
            "The only good spot is under a roof overhang, so the cam would hang upside down. "
            "Can the image be flipped?"
        ),
        "tags": ["cam-outdoor", "mounting"],
        "answers": [
            {
                "author": "priya",
                "after_hours": 3,
                "body": (
                    "Yes, upside-down mounting is supported. After mounting, open **Device → "
                    "Video → Rotate 180°**. Motion zones are rotated with the image."
                ),
                "votes": {"aisha": 1},
            },
        ],
    },
    # --- Lumen App & Account ------------------------------------------------------------------
    {
        "area": "lumen-app",
        "author": "tom",
        "days_ago": 59.0,
        "title": "Charged twice for Lumen Protect this month",
        "body": (
            "My bank statement shows two charges of 4.99 for Lumen Protect on the same day. I "
            "have one subscription. How do I get the duplicate refunded?"
        ),
        "tags": ["billing", "lumen-protect", "refund"],
        "votes": {"maria": 1, "diego": 1},
        "answers": [
            {
                "author": "carla",
                "after_hours": 2,
                "body": (
                    "Sorry about that! One of the two is usually a **pending authorisation** "
                    "from the card check, which your bank drops within 5 working days. If both "
                    "are still there after that, reply with the last 4 digits of the invoice "
                    "numbers from **Account → Billing → Invoices** and I'll refund the duplicate."
                ),
                "votes": {"tom": 1, "maria": 1, "priya": 1},
                "accepted": True,
                "validated": {"by": "priya", "after_hours": 4, "note": ""},
            },
        ],
    },
    {
        "area": "lumen-app",
        "author": "greta",
        "days_ago": 54.5,
        "title": "I lost my phone: how do I sign in with two-factor?",
        "body": (
            "My phone was stolen. It had the authenticator app for my Lumen account. Now the "
            "app asks for a 6-digit code on my new phone. How do I get in?"
        ),
        "tags": ["2fa", "sign-in", "account-recovery"],
        "votes": {"maria": 1, "aisha": 1},
        "answers": [
            {
                "author": "priya",
                "after_hours": 1,
                "body": (
                    "On the code screen, tap **Use a recovery code** and enter one of the 10 "
                    "codes you saved when enabling 2FA. Then go to **Account → Security** and "
                    "set up the authenticator on your new phone.\n\n"
                    "No recovery codes? Use **Can't sign in?**. Support verifies your identity "
                    "(this takes 24-48 h on purpose, to protect your cameras)."
                ),
                "votes": {"greta": 1, "maria": 1, "aisha": 1},
                "accepted": True,
                "validated": {"by": "mo", "after_hours": 9, "note": ""},
            },
        ],
    },
    {
        "area": "lumen-app",
        "author": "noor",
        "days_ago": 46.2,
        "title": "No notifications on Android 15 unless I open the app",
        "body": (
            "Motion alerts only arrive when I open the Lumen app. Pixel 8, Android 15. "
            "Notifications are enabled in the app settings."
        ),
        "tags": ["notifications", "android"],
        "votes": {"sam": 1, "kenji": 1},
        "answers": [
            {
                "author": "kenji",
                "after_hours": 3,
                "body": (
                    "Android's battery optimisation is killing the background service. "
                    "**Settings → Apps → Lumen Home → Battery → Unrestricted**. On some phones "
                    "you also need to allow *Alarms & reminders*."
                ),
                "votes": {"noor": 1, "sam": 1, "priya": 1},
                "accepted": True,
            },
            {
                "author": "tom",
                "after_hours": 8,
                "body": "Reinstall the app, that fixes most notification problems.",
                "votes": {"kenji": -1},
            },
        ],
    },
    {
        "area": "lumen-app",
        "author": "diego",
        "days_ago": 40.3,
        "title": "Separate homes for each of my rental flats",
        "body": (
            "I manage four flats. Right now all devices are in one home in the app, which is "
            "messy. Can I have several homes under one account and switch between them?"
        ),
        "tags": ["household", "multiple-homes"],
        "votes": {"kenji": 1},
        "answers": [
            {
                "author": "priya",
                "after_hours": 4,
                "body": (
                    "Yes: **Home switcher (top left) → Add home**. Then move each device via "
                    "**Device → Settings → Home**. Thermostats keep their schedules when moved; "
                    "cameras keep their recordings."
                ),
                "votes": {"diego": 1, "kenji": 1},
                "accepted": True,
            },
        ],
    },
    {
        "area": "lumen-app",
        "author": "aisha",
        "days_ago": 34.4,
        "title": "How do I download all my data from my Lumen account?",
        "body": (
            "For privacy reasons I'd like a copy of everything Lumen stores about me: "
            "thermostat history, camera events, account details. Is there an export?"
        ),
        "tags": ["privacy", "gdpr", "data-export"],
        "votes": {"maria": 1, "greta": 1, "noor": 1},
        "answers": [
            {
                "author": "carla",
                "after_hours": 5,
                "body": (
                    "Yes: **Account → Privacy → Download my data**. You'll get an email within "
                    "48 hours with a link to a ZIP containing:\n\n"
                    "- `account.json`: profile, households, devices\n"
                    "- `thermostat/*.csv`: temperature and setpoint history\n"
                    "- `camera/events.csv`: event list (video clips are not included)\n\n"
                    "The link expires after 7 days."
                ),
                "votes": {"aisha": 1, "maria": 1, "priya": 1},
                "accepted": True,
            },
        ],
    },
    {
        "area": "lumen-app",
        "author": "sam",
        "days_ago": 28.6,
        "title": "Google Home shows the thermostat as offline",
        "body": (
            "The Lumen app controls the thermostat fine, but in Google Home it says *Offline* "
            "and voice commands fail. I linked the accounts a year ago."
        ),
        "tags": ["google-home", "integration"],
        "answers": [
            {
                "author": "kenji",
                "after_hours": 7,
                "body": (
                    "The account link probably expired after a password change. In Google Home: "
                    "**Works with Google → Lumen Home → Reconnect**. Devices keep their rooms."
                ),
                "votes": {"sam": 1, "erik": 1},
                "accepted": True,
            },
        ],
    },
    {
        "area": "lumen-app",
        "author": "maria",
        "days_ago": 21.0,
        "title": "What happens to my clips if I cancel Lumen Protect?",
        "body": (
            "Money is tight and I'm thinking of cancelling Lumen Protect. Do I lose all the "
            "saved clips immediately? And does the cam still send motion alerts?"
        ),
        "tags": ["lumen-protect", "subscription", "cancel"],
        "votes": {"diego": 1, "greta": 1},
        "answers": [
            {
                "author": "priya",
                "after_hours": 2,
                "body": (
                    "When Protect ends:\n\n"
                    "| Feature | With Protect | Without |\n"
                    "|---|---|---|\n"
                    "| Cloud clip history | 30 days | 24 hours |\n"
                    "| Motion alerts | yes | yes |\n"
                    "| People/package alerts | yes | no |\n"
                    "| Live view | yes | yes |\n\n"
                    "Existing clips older than 24 hours are deleted at the end of the paid "
                    "period, so download any you want to keep first."
                ),
                "votes": {"maria": 1, "diego": 1, "greta": 1, "noor": 1},
                "accepted": True,
            },
            {
                "author": "greta",
                "after_hours": 10,
                "body": "I cancelled last year and kept everything, so I think nothing changes.",
                "votes": {"priya": -1, "diego": -1},
                "comments": [
                    {
                        "author": "carla",
                        "after_hours": 2,
                        "body": "That was the old policy; since March clips beyond 24 h are removed.",
                    }
                ],
            },
        ],
    },
    {
        "area": "lumen-app",
        "author": "kenji",
        "days_ago": 12.5,
        "title": "Is there a public API for the Lumen Thermostat?",
        "body": (
            "I'd like to read the current temperature into my own dashboard every 5 minutes. "
            "Is there an official API or do I need to go through Home Assistant?"
        ),
        "tags": ["api", "integration", "developer"],
        "votes": {"jonas": 1},
        "answers": [
            {
                "author": "jonas",
                "after_hours": 14,
                "body": (
                    "There's no public REST API that I know of. Home Assistant's Lumen "
                    "integration uses the same cloud as the app and works well at 5-minute "
                    "polling."
                ),
                "votes": {"kenji": 1},
            },
        ],
    },
    {
        "area": "lumen-app",
        "author": "lena",
        "days_ago": 6.0,
        "title": "Invoices with my company VAT number",
        "body": (
            "I use Lumen Protect for my business premises and need invoices with my company "
            "name and VAT number. Where can I add those?"
        ),
        "tags": ["billing", "invoice"],
        "answers": [],
    },
    {
        "area": "lumen-app",
        "author": "jonas",
        "days_ago": 0.9,
        "title": "App stuck on the splash screen after updating to 6.3",
        "body": (
            "Since updating the iOS app to 6.3 this morning it shows the Lumen logo forever. "
            "Force-quit and reboot didn't help. iPhone 13, iOS 18."
        ),
        "tags": ["ios", "bug"],
        "votes": {"maria": 1, "tom": 1},
        "answers": [],
    },
]
