"""The dev host's widget demo page (devhost/widget_demo.py): one <script> tag, escaped."""

from __future__ import annotations

from devhost.http_io import IncomingRequest
from devhost.widget_demo import DEMO_WIDGET_TOKEN, page


def _get(query: dict[str, str], method: str = "GET") -> tuple[int, str]:
    request = IncomingRequest(method, "/.dev/widget", "http://localhost/.dev/widget", {}, query, b"")
    response = page(request)
    return response.status, response.body.decode("utf-8")


def test_the_page_embeds_the_demo_widget_with_one_script_tag():
    status, html = _get({})
    assert status == 200 and html.count("<script") == 1
    assert f'src="/api/widget/v1/widget.js" data-widget-token="{DEMO_WIDGET_TOKEN}"' in html
    assert '<html lang="en" dir="ltr">' in html


def test_arabic_is_right_to_left_and_the_script_may_come_from_another_origin():
    status, html = _get({"lang": "ar", "api": "http://127.0.0.1:7071", "token": "t-1"})
    assert status == 200 and '<html lang="ar" dir="rtl">' in html
    assert 'src="http://127.0.0.1:7071/api/widget/v1/widget.js" data-widget-token="t-1"' in html


def test_the_token_is_escaped_and_the_api_must_be_an_origin():
    _, html = _get({"token": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in html and "&quot;&gt;&lt;script&gt;" in html
    assert _get({"api": "javascript:alert(1)"})[0] == 400
    assert _get({"api": "http://example.test/path"})[0] == 400
    assert _get({}, method="POST")[0] == 405
