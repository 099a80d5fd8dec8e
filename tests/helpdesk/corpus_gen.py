"""Writes the generated part of the inbound mail corpus: ``python tests/helpdesk/corpus_gen.py``.

Each file is named ``<expected outcome>--<what it is>.eml``; the test reads the
outcome from the name. The mails are built byte by byte (not with the
``email`` package), because the point is mail the ``email`` package would
never write: wrong charsets, broken boundaries, bare CRs, NUL bytes.
test_corpus checks that the committed files are what this script writes.

The world they are written for (see test_corpus): alice@c90001.example is a
verified address of customer C90001, carol@c90001.example a known but
unverified one, bob@c90002.example belongs to customer C90002, everybody else
is a stranger. Ticket LS-2026-000001 of C90001 exists, its first message is
``<root-1@c90001.example>``.
"""

from __future__ import annotations

import base64
import quopri
import sys
from pathlib import Path

GEN = Path(__file__).resolve().parent / "corpus" / "gen"
ALICE = "Alice Example <alice@c90001.example>"
CAROL = "carol@c90001.example"
BOB = "Bob <bob@c90002.example>"
STRANGER = "Eve <eve@stranger.example>"
ROOT = "<root-1@c90001.example>"
NUMBER = "LS-2026-000001"


def mail(headers: list[tuple[str, str]], body: bytes | str, *, mid: str = "") -> bytes:
    """A mail from header pairs and a body; Alice writes and a Message-ID is added
    unless the headers say otherwise (``mid="-"``: no Message-ID)."""
    names = {name.lower() for name, _ in headers}
    lines = []
    if "from" not in names:
        headers = [("From", ALICE), *headers]
    if "message-id" not in names and mid != "-":
        headers = [*headers, ("Message-ID", f"<{mid or 'gen'}@corpus.example>")]
    if "date" not in names:
        headers = [*headers, ("Date", "Sun, 22 Nov 2026 03:00:00 +0100")]
    for name, value in headers:
        lines.append(f"{name}: {value}".encode("utf-8", "surrogateescape"))
    raw_body = body.encode() if isinstance(body, str) else body
    return b"\n".join(lines) + b"\n\n" + raw_body


SAMPLES = {
    "utf-8": "Grüße aus Köln – der Server antwortet nicht. Ärger!",
    "iso-8859-1": "Grüße aus Köln, der Server antwortet nicht. Ärger!",
    "iso-8859-15": "Der Server kostet 10 € mehr? Grüße",
    "windows-1252": "„Der Server“ antwortet nicht – Grüße €",
    "iso-8859-2": "Dzień dobry, serwer nie działa. Łódź",
    "koi8-r": "Здравствуйте, сервер не отвечает",
    "iso-2022-jp": "サーバーが応答しません。よろしくお願いします",
    "shift_jis": "サーバーが応答しません",
    "euc-jp": "サーバーが応答しません",
    "gb2312": "服务器没有响应",
    "big5": "伺服器沒有回應",
    "euc-kr": "서버가 응답하지 않습니다",
}


def encoded_word(text: str, charset: str, kind: str) -> str:
    data = text.encode(charset)
    if kind == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    q = quopri.encodestring(data, header=True).decode().replace("?", "=3F").replace("\n", "")
    return f"=?{charset}?Q?{q}?="


def charsets() -> dict[str, bytes]:
    out = {}
    for n, (charset, text) in enumerate(SAMPLES.items()):
        data = text.encode(charset)
        for cte in ("8bit", "quoted-printable", "base64"):
            if cte == "8bit":
                body = data
            elif cte == "base64":
                body = base64.encodebytes(data)
            else:
                body = quopri.encodestring(data)
            out[f"ticket--charset-{charset}-{cte}"] = mail(
                [
                    ("Subject", encoded_word(text[:20], charset, "BQ"[n % 2])),
                    ("MIME-Version", "1.0"),
                    ("Content-Type", f'text/plain; charset="{charset}"'),
                    ("Content-Transfer-Encoding", cte),
                ],
                body,
                mid=f"cs-{charset}-{cte}",
            )
    return out


AUTOMATIC = {
    "auto-submitted-auto-replied": [("Auto-Submitted", "auto-replied")],
    "auto-submitted-auto-generated": [("Auto-Submitted", "auto-generated")],
    "auto-submitted-auto-notified": [("Auto-Submitted", "auto-notified; owner-email=x@y")],
    "precedence-bulk": [("Precedence", "bulk")],
    "precedence-list": [("Precedence", "list")],
    "precedence-junk": [("Precedence", "junk")],
    "list-id": [("List-Id", "Customers <customers.lists.example>")],
    "list-unsubscribe": [("List-Unsubscribe", "<mailto:leave@lists.example>")],
    "null-return-path": [("Return-Path", "<>")],
    "x-autoreply": [("X-Autoreply", "yes")],
    "x-autorespond": [("X-Autorespond", "Out of office")],
    "vacation-exchange": [
        ("X-Auto-Response-Suppress", "All"),
        ("Auto-Submitted", "auto-generated"),
        ("Subject", "Automatische Antwort: Abwesend"),
    ],
}


def automatic() -> dict[str, bytes]:
    out = {}
    for name, extra in AUTOMATIC.items():
        subject = [] if any(h == "Subject" for h, _ in extra) else [("Subject", "Out of office")]
        out[f"quarantined--auto-{name}"] = mail(
            [*subject, *extra], "I am away until Monday.", mid=f"auto-{name}"
        )
        out[f"follow_up--auto-threaded-{name}"] = mail(
            [*subject, *extra, ("In-Reply-To", ROOT)],
            "I am away until Monday.",
            mid=f"auto-thr-{name}",
        )
    out["ticket--auto-submitted-no"] = mail(
        [("Subject", "Help"), ("Auto-Submitted", "no")], "A person wrote this.", mid="auto-no"
    )
    return out


def dsn(sender: str, name: str, *, thread: bool) -> bytes:
    original = f"From: support@provider.example\nMessage-ID: <ack@provider.example>\n{'In-Reply-To: ' + ROOT if thread else ''}\nSubject: [{NUMBER}] ack\n\nText\n"
    return mail(
        [
            ("From", sender),
            ("Subject", "Undelivered Mail Returned to Sender"),
            ("Return-Path", "<>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", 'multipart/report; report-type=delivery-status; boundary="dsn"'),
            *([("In-Reply-To", ROOT)] if thread else []),
        ],
        "--dsn\nContent-Type: text/plain\n\nThe mail could not be delivered.\n"
        "--dsn\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; nobody@example.org\n"
        "Action: failed\nStatus: 5.1.1\n"
        f"--dsn\nContent-Type: message/rfc822\n\n{original}\n--dsn--\n",
        mid=f"dsn-{name}",
    )


def bounces() -> dict[str, bytes]:
    return {
        "quarantined--bounce-postfix-dsn": dsn(
            "MAILER-DAEMON@mx.example (Mail Delivery System)", "postfix", thread=False
        ),
        "quarantined--bounce-dsn-threaded": dsn("postmaster@mx.example", "thr", thread=True),
        "quarantined--bounce-dsn-from-customer-domain": dsn(ALICE, "alice", thread=False),
        "quarantined--bounce-qmail-plain": mail(
            [("From", "MAILER-DAEMON@qmail.example"), ("Subject", "failure notice")],
            "Hi. This is the qmail-send program at qmail.example.\n"
            "I'm afraid I wasn't able to deliver your message.\n",
            mid="qmail",
        ),
        "quarantined--bounce-exchange-ndr": mail(
            [
                ("From", "postmaster@exchange.example"),
                ("Subject", "Unzustellbar: Ihre Anfrage"),
                ("Content-Type", 'multipart/report; report-type=delivery-status; boundary="b"'),
            ],
            "--b\nContent-Type: text/html; charset=utf-8\n\n<p>Zustellung fehlgeschlagen</p>\n"
            "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns;ex.example\n--b--\n",
            mid="ndr",
        ),
        "quarantined--feedback-report": mail(
            [
                ("From", "abuse@isp.example"),
                ("Subject", "FW: spam report"),
                ("Content-Type", 'multipart/report; report-type=feedback-report; boundary="f"'),
            ],
            "--f\nContent-Type: text/plain\n\nThis is an abuse report\n"
            "--f\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n--f--\n",
            mid="arf",
        ),
    }


def senders_and_threads() -> dict[str, bytes]:
    plain = [("Subject", "Server down")]
    return {
        "ticket--verified-sender": mail(plain, "Please help.", mid="s-verified"),
        "ticket--unverified-sender": mail([("From", CAROL), *plain], "Please help.", mid="s-unv"),
        "ticket--sender-upper-case": mail(
            [("From", "ALICE@C90001.EXAMPLE"), *plain], "Shouting.", mid="s-upper"
        ),
        "ticket--sender-rfc2047-name": mail(
            [("From", "=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <alice@c90001.example>"), *plain],
            "Encoded display name.",
            mid="s-2047",
        ),
        "quarantined--stranger": mail([("From", STRANGER), *plain], "Hello?", mid="s-stranger"),
        "quarantined--no-from": mail(
            [("From", ""), ("Subject", "anonymous")], "Who am I?", mid="nofrom"
        ),
        "quarantined--from-without-address": mail(
            [("From", "alice at example dot com"), *plain], "Obfuscated.", mid="s-noaddr"
        ),
        "quarantined--from-empty-group": mail(
            [("From", "undisclosed-recipients:;"), *plain], "Group syntax.", mid="s-group"
        ),
        "follow_up--in-reply-to": mail(
            [("Subject", "Re: Server down"), ("In-Reply-To", ROOT)], "Still down.", mid="t-irt"
        ),
        "follow_up--references-only": mail(
            [("Subject", "Re: x"), ("References", f"<other@x.example> {ROOT} <y@x.example>")],
            "Threaded by References.",
            mid="t-refs",
        ),
        "follow_up--stranger-with-reference": mail(
            [("From", STRANGER), ("Subject", "Re: Server down"), ("In-Reply-To", ROOT)],
            "I was in Cc.",
            mid="t-stranger-ref",
        ),
        "follow_up--number-in-subject": mail(
            [("Subject", f"Re: AW: WG: [{NUMBER}] Server down")], "Any news?", mid="t-number"
        ),
        "follow_up--number-lower-case": mail(
            [("Subject", f"re: {NUMBER.lower()}")], "lower case number", mid="t-lower"
        ),
        "follow_up--number-unverified-sender": mail(
            [("From", CAROL), ("Subject", f"{NUMBER} follow-up")], "From Carol.", mid="t-carol"
        ),
        "quarantined--number-from-stranger": mail(
            [("From", STRANGER), ("Subject", f"Re: {NUMBER}")], "Guessing.", mid="t-guess"
        ),
        "ticket--number-of-another-customer": mail(
            [("From", BOB), ("Subject", f"Re: {NUMBER}")], "Not my ticket.", mid="t-bob"
        ),
        "ticket--number-malformed": mail(
            [("Subject", "Re: LS-2026-1 and XLS-2026-000001")], "No real number.", mid="t-bad"
        ),
        "ticket--unknown-reference": mail(
            [("Subject", "Re: old"), ("In-Reply-To", "<unknown@nowhere.example>")],
            "Unknown thread.",
            mid="t-unknown",
        ),
    }


LONG = "x" * 100_000


def structures() -> dict[str, bytes]:
    mime = [("MIME-Version", "1.0")]
    attachment = base64.encodebytes(b"%PDF-1.4 fake pdf\n" * 50).decode()
    return {
        "ticket--html-only": mail(
            [("Subject", "HTML"), *mime, ("Content-Type", "text/html; charset=utf-8")],
            "<html><head><style>p{color:red}</style><script>alert(1)</script></head>"
            "<body><p>Hallo &amp; gr&uuml;&szlig; dich</p><div>Zweite Zeile</div></body></html>",
            mid="html-only",
        ),
        "ticket--alternative": mail(
            [("Subject", "alt"), *mime, ("Content-Type", 'multipart/alternative; boundary="a"')],
            "--a\nContent-Type: text/plain; charset=utf-8\n\nPlain part\n"
            "--a\nContent-Type: text/html; charset=utf-8\n\n<b>HTML part</b>\n--a--\n",
            mid="alt",
        ),
        "ticket--boundary-never-used": mail(
            [("Subject", "broken"), *mime, ("Content-Type", 'multipart/mixed; boundary="nope"')],
            "This body has no boundary at all.\n",
            mid="nobound",
        ),
        "ticket--boundary-not-closed": mail(
            [("Subject", "open"), *mime, ("Content-Type", 'multipart/mixed; boundary="b"')],
            "--b\nContent-Type: text/plain\n\nThe last boundary is missing\n",
            mid="unclosed",
        ),
        "ticket--multipart-without-boundary": mail(
            [("Subject", "noparam"), *mime, ("Content-Type", "multipart/mixed")],
            "--x\nContent-Type: text/plain\n\nhello\n--x--\n",
            mid="noparam",
        ),
        "ticket--nested-related": mail(
            [("Subject", "nested"), *mime, ("Content-Type", 'multipart/mixed; boundary="o"')],
            '--o\nContent-Type: multipart/related; boundary="r"\n\n'
            '--r\nContent-Type: multipart/alternative; boundary="a"\n\n'
            "--a\nContent-Type: text/plain\n\nDeep text\n--a\nContent-Type: text/html\n\n<p>x</p>\n"
            "--a--\n--r\nContent-Type: image/png\nContent-ID: <logo>\n"
            "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--r--\n"
            "--o\nContent-Type: application/pdf; name=invoice.pdf\n"
            f"Content-Disposition: attachment\nContent-Transfer-Encoding: base64\n\n{attachment}"
            "--o--\n",
            mid="nested",
        ),
        "ticket--forwarded-rfc822": mail(
            [("Subject", "Fwd: alert"), *mime, ("Content-Type", 'multipart/mixed; boundary="f"')],
            "--f\nContent-Type: text/plain\n\nSee the forwarded mail.\n"
            "--f\nContent-Type: message/rfc822\nContent-Disposition: attachment; "
            'filename="alert.eml"\n\nFrom: monitor@x.example\nSubject: Disk full\n\nDisk full!\n'
            "--f--\n",
            mid="fwd",
        ),
        "ticket--forwarded-only": mail(
            [("Subject", "Fwd:"), *mime, ("Content-Type", 'multipart/mixed; boundary="f"')],
            "--f\nContent-Type: message/rfc822\n\nFrom: x@x.example\nSubject: inner\n\n"
            "Inner text only\n--f--\n",
            mid="fwd-only",
        ),
        "ticket--forwarded-inline": mail(
            [("Subject", "WG: Rechnung")],
            "FYI\n\n-------- Weitergeleitete Nachricht --------\nBetreff: Rechnung\n\nText\n",
            mid="fwd-inline",
        ),
        "ticket--rfc2231-filename": mail(
            [("Subject", "file"), *mime, ("Content-Type", 'multipart/mixed; boundary="m"')],
            "--m\nContent-Type: text/plain\n\nsee file\n--m\nContent-Type: application/pdf\n"
            "Content-Disposition: attachment;\n filename*0*=utf-8''Pr%C3%BCf;\n"
            " filename*1*=bericht%20%E2%82%AC.pdf\nContent-Transfer-Encoding: base64\n\n"
            f"{attachment}--m--\n",
            mid="2231",
        ),
        "ticket--rfc2047-filename": mail(
            [("Subject", "file"), *mime, ("Content-Type", 'multipart/mixed; boundary="m"')],
            "--m\nContent-Type: text/plain\n\nsee file\n--m\n"
            'Content-Type: application/octet-stream; name="=?iso-8859-1?Q?B=FCro.txt?="\n'
            "Content-Disposition: attachment\n\nhello\n--m--\n",
            mid="2047file",
        ),
        "ticket--rfc2231-broken": mail(
            [("Subject", "file"), *mime, ("Content-Type", 'multipart/mixed; boundary="m"')],
            "--m\nContent-Type: text/plain\n\nsee file\n--m\nContent-Type: text/plain\n"
            "Content-Disposition: attachment; filename*0*=bogus''%ZZ%;\n filename*3=x\n\nx\n--m--\n",
            mid="2231broken",
        ),
        "ticket--attachment-without-name": mail(
            [("Subject", "file"), *mime, ("Content-Type", 'multipart/mixed; boundary="m"')],
            "--m\nContent-Type: text/plain\n\nsee file\n--m\nContent-Type: application/zip\n"
            "Content-Disposition: attachment\nContent-Transfer-Encoding: base64\n\nUEsDBA==\n--m--\n",
            mid="noname",
        ),
        "ticket--winmail-dat": mail(
            [("Subject", "Outlook"), *mime, ("Content-Type", 'multipart/mixed; boundary="m"')],
            "--m\nContent-Type: text/plain\n\nOutlook sent TNEF\n--m\n"
            'Content-Type: application/ms-tnef; name="winmail.dat"\n'
            "Content-Transfer-Encoding: base64\n\neJ8+IgAAAA==\n--m--\n",
            mid="tnef",
        ),
        "ticket--calendar-invite": mail(
            [("Subject", "Termin"), *mime, ("Content-Type", "text/calendar; method=REQUEST")],
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:Wartung\nEND:VEVENT\nEND:VCALENDAR\n",
            mid="ics",
        ),
        "ticket--smime-signed": mail(
            [
                ("Subject", "signed"),
                *mime,
                (
                    "Content-Type",
                    'multipart/signed; protocol="application/pkcs7-signature"; '
                    'micalg=sha-256; boundary="s"',
                ),
            ],
            "--s\nContent-Type: text/plain\n\nSigned text\n--s\n"
            'Content-Type: application/pkcs7-signature; name="smime.p7s"\n'
            "Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\n--s--\n",
            mid="smime",
        ),
        "ticket--pgp-encrypted": mail(
            [
                ("Subject", "..."),
                *mime,
                (
                    "Content-Type",
                    'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="p"',
                ),
            ],
            "--p\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--p\n"
            "Content-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\nhQEMA\n"
            "-----END PGP MESSAGE-----\n--p--\n",
            mid="pgp",
        ),
        "ticket--unknown-charset": mail(
            [("Subject", "x"), *mime, ("Content-Type", "text/plain; charset=x-unknown-8bit")],
            "Gr\xfc\xdfe".encode("latin-1"),
            mid="unk-cs",
        ),
        "ticket--wrong-charset-declared": mail(
            [("Subject", "x"), *mime, ("Content-Type", "text/plain; charset=iso-8859-1")],
            "Grüße aus München".encode(),
            mid="wrong-cs",
        ),
        "ticket--utf8-undeclared": mail(
            [("Subject", "Grüße ohne Deklaration")], "Grüße, Ärger".encode(), mid="utf8-undecl"
        ),
        "ticket--latin1-undeclared": mail(
            [("Subject", "x")], "Gr\xfc\xdfe, \xc4rger".encode("latin-1"), mid="l1-undecl"
        ),
        "ticket--raw-8bit-subject": mail(
            [("Subject", "Störung im Büro")], "raw utf-8 header", mid="8bit-subj"
        ),
        "ticket--bad-encoded-word": mail(
            [("Subject", "=?utf-8?B?not-base64!!?= and =?bogus-cs?Q?x?=")], "x", mid="bad-ew"
        ),
        "ticket--unknown-transfer-encoding": mail(
            [("Subject", "x"), *mime, ("Content-Transfer-Encoding", "x-uuencode-ish")],
            "begin 644 file\nend\n",
            mid="unk-cte",
        ),
        "ticket--invalid-base64": mail(
            [("Subject", "x"), *mime, ("Content-Transfer-Encoding", "base64")],
            "This is !!! not base64 ***\n",
            mid="bad-b64",
        ),
        "ticket--null-bytes": mail(
            [("Subject", "nul\x00byte")], b"before\x00after\x00\x01\x02", mid="nul"
        ),
        "ticket--long-subject": mail([("Subject", LONG)], "long subject", mid="long-subj"),
        "ticket--long-header-line": mail(
            [("Subject", "long header"), ("X-Junk", LONG)], "x", mid="long-hdr"
        ),
        "ticket--long-message-id": mail(
            [("Subject", "long id"), ("Message-ID", f"<{'i' * 5000}@x.example>")], "x", mid="-"
        ),
        "ticket--long-references": mail(
            [
                ("Subject", "refs"),
                ("References", " ".join(f"<r{i}@x.example>" for i in range(3000))),
            ],
            "many references",
            mid="long-refs",
        ),
        "ticket--long-body-line": mail([("Subject", "x")], LONG, mid="long-body"),
        "ticket--no-message-id": mail(
            [("From", ALICE), ("Subject", "no id")], "without Message-ID", mid="-"
        ),
        "ticket--no-subject": mail([], "no subject at all", mid="no-subj"),
        "ticket--empty-body": mail([("Subject", "empty")], b"", mid="empty-body"),
        "ticket--headers-only": mail([("Subject", "only")], b"", mid="hdr-only").rstrip(b"\n"),
        "ticket--crlf": mail([("Subject", "crlf")], "line1\nline2\n", mid="crlf").replace(
            b"\n", b"\r\n"
        ),
        "ticket--bare-cr": mail([("Subject", "cr")], "line1\rline2\r", mid="cr"),
        "ticket--mbox-from-line": b"From alice@c90001.example Sun Nov 22 03:00:00 2026\n"
        + mail([("Subject", "mbox")], "from an mbox", mid="mbox"),
        "ticket--garbage-content-type": mail(
            [("Subject", "x"), ("Content-Type", "%%%;;;=== garbage")], "text", mid="ct-garbage"
        ),
        "ticket--duplicate-headers": mail(
            [("Subject", "one"), ("Subject", "two"), ("From", ALICE), ("From", STRANGER)],
            "two subjects",
            mid="dup-hdr",
        ),
        "ticket--header-continuation": mail(
            [("Subject", "folded\n  across\n\tlines")], "folded subject", mid="folded"
        ),
        "ticket--utf16-body": mail(
            [("Subject", "utf16"), *mime, ("Content-Type", "text/plain; charset=utf-16")],
            "Hallo Welt".encode("utf-16"),
            mid="utf16",
        ),
        "quarantined--empty-file": b"",
        "quarantined--whitespace-only": b"\n\n  \r\n",
        "quarantined--no-header-fields": b"Just some text\nwithout any header\n",
        "quarantined--binary-garbage": bytes(range(256)) * 4,
    }


def corpus() -> dict[str, bytes]:
    """Every generated mail by file stem."""
    return {**charsets(), **automatic(), **bounces(), **senders_and_threads(), **structures()}


def main() -> None:
    GEN.mkdir(parents=True, exist_ok=True)
    for old in GEN.glob("*.eml"):
        old.unlink()
    for stem, raw in corpus().items():
        (GEN / f"{stem}.eml").write_bytes(raw)
    sys.stdout.write(f"{len(corpus())} mails in {GEN}\n")


if __name__ == "__main__":
    main()
