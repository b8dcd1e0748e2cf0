"""`GET /.dev/widget` (dev host only): a shop page that embeds the chat widget the way a
pharmacy's site would, with the one <script> tag of docs/inbox.md.

    /.dev/widget?token=<widget token>[&lang=ar][&api=http://127.0.0.1:7071]

`token` defaults to the demo widget connection of `make run` (scripts/demo_data.py). `api` is
the origin the script is loaded from (default: this dev host): the browser test loads the page
from `localhost` and the widget from `127.0.0.1`, so the widget runs cross-origin as on a real
site.
"""

from __future__ import annotations

import re
from html import escape

from devhost.http_io import IncomingRequest, OutgoingResponse, problem

PATH = "/.dev/widget"
DEMO_WIDGET_TOKEN = "demo-widget"  # scripts/demo_data.py
ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9a-fA-F:]+\](:[0-9]{1,5})?")
TEXTS = {
    "en": ("Al-Shifa Pharmacy", "Vitamins, skincare and prescriptions, delivered. Questions? Use the chat bubble."),
    "ar": ("صيدلية الشفاء", "فيتامينات وعناية بالبشرة ووصفات طبية حتى باب بيتك. لديك سؤال؟ استخدم فقاعة المحادثة."),
}


def page(request: IncomingRequest) -> OutgoingResponse:
    if request.method not in ("GET", "HEAD"):
        return problem(405, "method_not_allowed", "Use GET.", {"allow": "GET, HEAD"})
    token = request.query.get("token") or DEMO_WIDGET_TOKEN
    lang = "ar" if request.query.get("lang", "").lower().startswith("ar") else "en"
    api = request.query.get("api", "").rstrip("/")
    if api and not ORIGIN.fullmatch(api):
        return problem(400, "invalid_api_origin", "api must be an origin like http://127.0.0.1:7071.")
    heading, text = TEXTS[lang]
    document = (
        f'<!doctype html><html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(heading)}</title>'
        "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style>"
        f"</head><body><h1>{escape(heading)}</h1><p>{escape(text)}</p>"
        f'<script src="{escape(api)}/api/widget/v1/widget.js" data-widget-token="{escape(token)}" async></script>'
        "</body></html>"
    )
    return OutgoingResponse(200, [("content-type", "text/html; charset=utf-8")], document.encode("utf-8"))
