"""Reading mail: pure functions, parametrised tables, and a property: parse never raises."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leitstand.helpdesk.mail import (
    ParsedMail,
    ParseFailure,
    decode_text,
    find_ticket_numbers,
    html_to_text,
    parse,
)

CORPUS = sorted((Path(__file__).resolve().parent / "corpus").glob("*/*.eml"))
SAMPLES = [p.read_bytes() for p in CORPUS[::7]]


def parsed(raw: bytes) -> ParsedMail:
    result = parse(raw)
    assert isinstance(result, ParsedMail), result
    return result


@pytest.mark.parametrize(
    ("subject", "number_format", "numbers"),
    [
        ("Re: [LS-2026-000042] Disk", "LS-{year}-{seq:06d}", ["LS-2026-000042"]),
        ("re: ls-2026-000042", "LS-{year}-{seq:06d}", ["LS-2026-000042"]),
        ("LS-2026-42 LS-26-000042", "LS-{year}-{seq:06d}", []),
        ("LS-2026-1000000", "LS-{year}-{seq:06d}", ["LS-2026-1000000"]),  # past a million
        ("XLS-2026-000042 and LS-2026-000042x", "LS-{year}-{seq:06d}", []),
        (
            "[LS-2027-000001] Re: [LS-2026-000009]",
            "LS-{year}-{seq:06d}",
            ["LS-2027-000001", "LS-2026-000009"],
        ),
        ("Ticket T2026-0042 again T2026-0042", "T{year}-{seq:04d}", ["T2026-0042"]),
        ("#2026/17 (ticket)", "#{year}/{seq}", ["#2026/17"]),
        ("Ticket (1.2) 2026", "({seq}.{year})", []),
    ],
)
def test_ticket_numbers_follow_the_configured_format(
    subject: str, number_format: str, numbers: list[str]
) -> None:
    assert find_ticket_numbers(subject, number_format) == numbers


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hallo</p><p>Welt</p>", "Hallo\n\nWelt"),
        ("<script>alert('x')</script><style>p{}</style>Text", "Text"),
        ("<head><title>T</title></head><body>B&uuml;ro &amp; &#8364;</body>", "Büro & €"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<table><tr><td>1</td><td>2</td></tr></table>", "1 2"),
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("<img src=x onerror=alert(1)>only", "only"),
    ],
)
def test_html_becomes_text_without_anything_executable(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    ("data", "declared", "text"),
    [
        ("Grüße".encode("latin-1"), "iso-8859-1", "Grüße"),
        ("Grüße".encode(), "iso-8859-1", "Grüße"),  # declared Latin-1, sent UTF-8
        ("Grüße".encode(), "us-ascii", "Grüße"),
        ("Grüße".encode(), None, "Grüße"),
        ("Grüße €".encode("cp1252"), None, "Grüße €"),
        ("Grüße".encode("latin-1"), "x-unknown", "Grüße"),
        ("„Zitat“".encode("cp1252"), "windows-1252", "„Zitat“"),
        ("サーバー".encode("iso-2022-jp"), "ISO-2022-JP", "サーバー"),
        ("Привет".encode("koi8-r"), '"koi8-r"', "Привет"),
    ],
)
def test_text_is_decoded_whatever_the_charset_claims(
    data: bytes, declared: str | None, text: str
) -> None:
    assert decode_text(data, declared) == text


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ("Auto-Submitted: no", ""),
        ("Auto-Submitted: auto-replied", "Auto-Submitted: auto-replied"),
        ("Auto-Submitted: Auto-Generated (vacation)", "Auto-Submitted: auto-generated (vacation)"),
        ("Precedence: bulk", "Precedence: bulk"),
        ("Precedence: first-class", ""),
        ("List-Id: <x.lists.example>", "mailing list"),
        ("Return-Path: <>", "null return path"),
        ("Return-Path: <alice@c90001.example>", ""),
        ("X-Autoreply: yes", "X-Autoreply header"),
        ("X-Autorespond: vacation", "X-Autorespond header"),
        ("X-Auto-Response-Suppress: All", ""),  # a person may still have written it
    ],
)
def test_rfc_3834_automatic_mail_is_recognised(headers: str, automatic: str) -> None:
    raw = f"From: a@x.example\n{headers}\nSubject: s\n\nbody\n".encode()
    assert parsed(raw).automatic == automatic


def test_threading_ids_are_in_reply_to_first_then_references_newest_first() -> None:
    mail = parsed(
        b"From: a@x.example\nMessage-ID: <m@x>\nIn-Reply-To: <p@x>\n"
        b"References: <r1@x> <r2@x>\n <p@x>\n\nbody\n"
    )
    assert (mail.message_id, mail.thread_ids) == ("<m@x>", ("<p@x>", "<r2@x>", "<r1@x>"))


def test_senders_are_lower_case_addr_specs() -> None:
    mail = parsed(b'From: "M\xc3\xbcller, J." <J.Mueller@Example.COM>\n\nx\n')
    assert (mail.sender, mail.sender_name) == ("j.mueller@example.com", "Müller, J.")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"  \r\n\r\n", "empty message"),
        (b"hello world\n", "no header fields"),
        (b"\x00\x01\x02From: a@x\n", "no header fields"),
    ],
)
def test_what_is_no_mail_at_all_is_a_failure_with_a_reason(raw: bytes, reason: str) -> None:
    assert parse(raw) == ParseFailure(reason)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_parse_never_raises_on_any_bytes(raw: bytes) -> None:
    assert isinstance(parse(raw), ParsedMail | ParseFailure)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=8)), max_size=6),
)
def test_parse_never_raises_on_damaged_real_mail(
    raw: bytes, damage: list[tuple[int, bytes]]
) -> None:
    data = bytearray(raw)
    for where, junk in damage:
        data[where % (len(data) + 1) : where % (len(data) + 1) + len(junk)] = junk
    result = parse(bytes(data))
    if isinstance(result, ParsedMail):
        assert "\x00" not in result.body + result.subject + result.sender


@pytest.mark.parametrize(
    ("name", "body", "files"),
    [
        (
            "hand/ticket--apple-mail-inline-image",
            "Hier der Screenshot:\n\nGruss Alice",
            ["Bildschirmfoto 2026-11-22 um 13.59.12.png"],
        ),
        (
            "hand/ticket--outlook-windows-1252-alternative",
            "„503 Service Unavailable“.\nBitte dringend prüfen.",
            [],
        ),
        (
            "hand/ticket--iphone-html-only-base64",
            "Mein Posteingang lädt nicht mehr – bitte prüfen.",
            [],
        ),
        ("gen/ticket--rfc2231-filename", "see file", ["Prüfbericht €.pdf"]),
        ("gen/ticket--forwarded-rfc822", "See the forwarded mail.", ["alert.eml"]),
        ("gen/ticket--forwarded-only", "Inner text only", []),
        ("gen/ticket--nested-related", "Deep text", ["invoice.pdf"]),
        ("gen/ticket--boundary-never-used", "This body has no boundary at all.", []),
        ("gen/ticket--wrong-charset-declared", "Grüße aus München", []),
        ("gen/ticket--charset-iso-2022-jp-base64", "サーバーが応答しません", []),
        ("gen/ticket--null-bytes", "beforeafter", []),
    ],
)
def test_real_world_bodies_and_attachments(name: str, body: str, files: list[str]) -> None:
    mail = parsed((CORPUS[0].parent.parent / f"{name}.eml").read_bytes())
    assert body in mail.body
    assert [a.filename for a in mail.attachments] == files
