"""Attachments: stored under a random name, measured (size, SHA-256), limited,
downloadable only by staff and the ticket's own customer, never rendered; from
the back office, the portal and inbound mail (nothing lost)."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from tests.conftest import Tenant

from leitstand.accounts.models import User
from leitstand.helpdesk import actions, attachments, inbound
from leitstand.helpdesk.models import Attachment, InboundMail, Ticket

pytestmark = pytest.mark.django_db
SUPPORT = inbound.Mailbox("support@provider.example", auto_reply=False)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.HELPDESK_ATTACHMENT_MAX_BYTES = 1000
    settings.STAFF_REQUIRE_TOTP = False
    return tmp_path / "media"


@pytest.fixture
def ticket_a(customer_a: Tenant) -> Ticket:
    return actions.open_ticket(customer_a.customer, "Help", "please", channel="portal")


@pytest.fixture
def ticket_b(customer_b: Tenant) -> Ticket:
    return actions.open_ticket(customer_b.customer, "Help", "please", channel="portal")


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


# --- pure helpers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\anna\\Desktop\\log.txt", "log.txt"),
        ("evil\x00name\r\n.txt", "evilname.txt"),
        ("", "unnamed"),
        ("..", "unnamed"),
        ("Prüfbericht Ärger.docx", "Prüfbericht Ärger.docx"),
        ("a" * 300 + ".tar.gz", "a" * 252 + ".gz"),
    ],
)
def test_display_names_are_safe(given: str, shown: str) -> None:
    assert attachments.display_name(given) == shown
    assert len(attachments.display_name(given)) <= 255


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("application/pdf", "application/pdf"),
        ("Text/Plain; charset=utf-8", "text/plain"),
        ("text/html\r\nX-Evil: 1", "application/octet-stream"),
        ("", "application/octet-stream"),
        (None, "application/octet-stream"),
        ("nonsense", "application/octet-stream"),
    ],
)
def test_content_types_are_cleaned(given: str | None, kept: str) -> None:
    assert attachments.clean_content_type(given) == kept


def test_sizes_for_people() -> None:
    assert [attachments.human_size(n) for n in (12, 1500, 25_000_000)] == [
        "12 B",
        "2 kB",
        "25.0 MB",
    ]


# --- storing ---------------------------------------------------------------------


def test_a_file_is_stored_under_a_random_name_with_its_digest(
    ticket_a: Ticket, media: Path
) -> None:
    data = b"line 1\nline 2\n"
    a = attachments.store(ticket_a, "../secret report.txt", ContentFile(data), "text/plain")
    assert a.name == "secret report.txt"
    assert (a.size, a.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    (path,) = stored_files(media)
    assert path.read_bytes() == data
    assert "secret" not in path.name
    assert "report" not in path.name
    assert "." not in path.name
    assert path.is_relative_to(media / "helpdesk" / "attachments")
    b = attachments.store(ticket_a, "../secret report.txt", ContentFile(data), "text/plain")
    assert a.file.name != b.file.name  # same name twice: two files


def test_over_the_limit_is_a_clear_error_and_leaves_nothing(ticket_a: Ticket, media: Path) -> None:
    with pytest.raises(
        attachments.AttachmentError, match=r"big\.bin is larger than the limit of 1 kB"
    ):
        attachments.store(ticket_a, "big.bin", ContentFile(b"x" * 1001), None)
    assert not Attachment.objects.exists()
    assert stored_files(media) == []
    exactly = attachments.store(ticket_a, "ok.bin", ContentFile(b"x" * 1000), None)
    assert exactly.size == 1000


def test_an_empty_file_is_refused(ticket_a: Ticket) -> None:
    with pytest.raises(attachments.AttachmentError, match="empty"):
        attachments.store(ticket_a, "empty.txt", ContentFile(b""), None)


def test_a_failed_set_of_uploads_removes_the_files_already_written(
    ticket_a: Ticket, media: Path
) -> None:
    files = [SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b" * 2000)]
    with pytest.raises(attachments.AttachmentError):
        attachments.store_uploads(ticket_a, files)
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_check_uploads_lists_every_problem() -> None:
    files = [
        SimpleUploadedFile("big.iso", b"x" * 5000),
        SimpleUploadedFile("empty.txt", b""),
        SimpleUploadedFile("fine.txt", b"fine"),
    ]
    assert attachments.check_uploads(files) == [
        "big.iso is 5 kB; the limit is 1 kB per file.",
        "empty.txt is empty.",
    ]
    many = [SimpleUploadedFile(f"{i}.txt", b"x") for i in range(attachments.MAX_FILES + 1)]
    assert attachments.check_uploads(many) == ["At most 20 files can be attached at once."]


# --- downloads --------------------------------------------------------------------


def test_staff_download_any_file_as_an_attachment_never_rendered(
    client: Client, staff_user: User, ticket_b: Ticket
) -> None:
    a = attachments.store(
        ticket_b, "page.html", ContentFile(b"<script>alert(1)</script>"), "text/html"
    )
    client.force_login(staff_user)
    response = client.get(f"/staff/tickets/files/{a.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"  # type: ignore[attr-defined]
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert client.get("/staff/tickets/files/999999/").status_code == 404


def test_non_ascii_names_are_encoded_in_the_header(
    client: Client, staff_user: User, ticket_a: Ticket
) -> None:
    a = attachments.store(ticket_a, "Prüfbericht.pdf", ContentFile(b"%PDF"), "application/pdf")
    client.force_login(staff_user)
    disposition = client.get(f"/staff/tickets/files/{a.pk}/")["Content-Disposition"]
    assert disposition == "attachment; filename*=utf-8''Pr%C3%BCfbericht.pdf"


def test_customers_download_only_their_own_public_files(
    client: Client, customer_a: Tenant, ticket_a: Ticket, ticket_b: Ticket
) -> None:
    own = attachments.store(ticket_a, "own.txt", ContentFile(b"own"), "text/plain")
    internal = attachments.store(
        ticket_a, "note.txt", ContentFile(b"internal"), "text/plain", internal=True
    )
    other = attachments.store(ticket_b, "other.txt", ContentFile(b"other"), "text/plain")
    client.force_login(customer_a.user)
    response = client.get(f"/portal/helpdesk/files/{own.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/portal/helpdesk/files/{internal.pk}/").status_code == 404
    assert client.get(f"/portal/helpdesk/files/{other.pk}/").status_code == 404
    assert client.get(f"/staff/tickets/files/{own.pk}/").status_code == 404


def test_a_file_missing_on_disk_is_404_not_a_traceback(
    client: Client, staff_user: User, ticket_a: Ticket
) -> None:
    a = attachments.store(ticket_a, "x.txt", ContentFile(b"x"), "text/plain")
    Path(a.file.path).unlink()
    client.force_login(staff_user)
    assert client.get(f"/staff/tickets/files/{a.pk}/").status_code == 404


# --- from the back office -----------------------------------------------------------


def test_staff_attach_files_and_notes_carry_internal_files(
    client: Client, staff_user: User, customer_a: Tenant, ticket_a: Ticket
) -> None:
    client.force_login(staff_user)
    response = client.post(
        f"/staff/tickets/{ticket_a.number}/files/",
        {"files": [SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")]},
    )
    assert response.status_code == 302
    assert sorted(ticket_a.attachments.values_list("name", flat=True)) == ["a.txt", "b.txt"]
    client.post(
        f"/staff/tickets/{ticket_a.number}/note/",
        {"note-body": "see log", "files": SimpleUploadedFile("log.txt", b"log")},
    )
    log = ticket_a.attachments.get(name="log.txt")
    assert log.internal
    assert log.message is not None
    assert log.message.internal
    page = client.get(f"/staff/tickets/{ticket_a.number}/").content.decode()
    assert "log.txt" in page
    assert "a.txt" in page
    customer = Client()
    customer.force_login(customer_a.user)
    portal = customer.get(f"/portal/tickets/{ticket_a.number}/").content.decode()
    assert "a.txt" in portal
    assert "log.txt" not in portal


def test_staff_uploads_over_the_limit_are_refused_with_the_reason(
    client: Client, staff_user: User, ticket_a: Ticket
) -> None:
    client.force_login(staff_user)
    response = client.post(
        f"/staff/tickets/{ticket_a.number}/note/",
        {"note-body": "see dump", "files": SimpleUploadedFile("dump.bin", b"x" * 3000)},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "dump.bin is 3 kB; the limit is 1 kB per file." in page
    assert "see dump" in page  # the note is kept in the form
    assert not ticket_a.messages.filter(body="see dump").exists()
    empty = client.post(f"/staff/tickets/{ticket_a.number}/files/", {})
    assert "Choose at least one file." in client.get(empty["Location"]).content.decode()


def test_a_reply_mails_its_files(
    client: Client, staff_user: User, customer_a: Tenant, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail

    ticket = actions.open_ticket(
        customer_a.customer, "x", "y", channel="email", requester_email="alice@c90001.example"
    )
    client.force_login(staff_user)
    client.post(
        f"/staff/tickets/{ticket.number}/reply/",
        {"reply-body": "Here is the report", "files": SimpleUploadedFile("r.txt", b"report")},
    )
    (sent,) = mail.outbox
    assert sent.attachments[0][:2] == ("r.txt", "report")
    assert not ticket.attachments.get().internal


# --- from the portal --------------------------------------------------------------


def test_customers_attach_files_when_opening_and_replying(
    client: Client, customer_a: Tenant
) -> None:
    client.force_login(customer_a.user)
    response = client.post(
        "/portal/tickets/new/",
        {
            "kind": "request",
            "subject": "Logs",
            "body": "See the file",
            "files": SimpleUploadedFile("error.log", b"boom", content_type="text/plain"),
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Logs")
    first = ticket.attachments.get()
    assert (first.name, first.content_type, first.uploaded_by) == (
        "error.log",
        "text/plain",
        customer_a.user,
    )
    assert first.message == ticket.messages.get()
    client.post(
        f"/portal/tickets/{ticket.number}/",
        {"body": "and another", "files": SimpleUploadedFile("more.log", b"more")},
    )
    assert ticket.attachments.count() == 2
    page = client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert f"/portal/helpdesk/files/{first.pk}/" in page


def test_a_portal_upload_over_the_limit_opens_nothing(client: Client, customer_a: Tenant) -> None:
    client.force_login(customer_a.user)
    response = client.post(
        "/portal/tickets/new/",
        {
            "kind": "request",
            "subject": "Logs",
            "body": "See the file",
            "files": SimpleUploadedFile("huge.log", b"x" * 2000),
        },
    )
    assert response.status_code == 200
    assert "huge.log is 2 kB; the limit is 1 kB per file." in response.content.decode()
    assert not Ticket.objects.exists()


# --- from inbound mail ---------------------------------------------------------------


def mail_with(files: list[tuple[str, bytes, str]], *, msgid: str = "<m1@c90001.example>") -> bytes:
    msg = EmailMessage()
    msg["From"] = "alice@c90001.example"
    msg["To"] = "support@provider.example"
    msg["Subject"] = "Screenshots"
    msg["Message-ID"] = msgid
    msg.set_content("See attached.")
    for name, data, ctype in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def test_inbound_attachments_become_files(customer_a: Tenant) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    raw = mail_with(
        [("screen shot.png", png, "image/png"), ("Überblick.txt", b"hallo", "text/plain")]
    )
    outcome = inbound.receive(raw, mailbox=SUPPORT)
    assert outcome.kind == "ticket"
    ticket = Ticket.objects.get(number=outcome.ticket_number)
    files = {a.name: a for a in ticket.attachments.all()}
    assert set(files) == {"screen shot.png", "Überblick.txt"}
    assert files["screen shot.png"].sha256 == hashlib.sha256(png).hexdigest()
    assert files["screen shot.png"].content_type == "image/png"
    with files["screen shot.png"].file.open("rb") as fh:
        assert fh.read() == png
    mail = InboundMail.objects.get()
    assert files["screen shot.png"].inbound_mail == mail
    assert files["screen shot.png"].message == ticket.messages.get()
    assert bytes(mail.raw) == raw  # the original stays


def test_a_redelivered_mail_stores_its_files_once(customer_a: Tenant) -> None:
    raw = mail_with([("a.txt", b"a", "text/plain")])
    inbound.receive(raw, mailbox=SUPPORT)
    again = inbound.receive(raw, mailbox=SUPPORT)
    assert again.duplicate
    assert Attachment.objects.count() == 1
    attachments.from_inbound_mail(InboundMail.objects.get())
    assert Attachment.objects.count() == 1


def test_an_inbound_file_over_the_limit_stays_in_the_mail_and_is_named(
    customer_a: Tenant,
) -> None:
    raw = mail_with(
        [("big.bin", b"x" * 5000, "application/octet-stream"), ("ok.txt", b"ok", "text/plain")]
    )
    outcome = inbound.receive(raw, mailbox=SUPPORT)
    ticket = Ticket.objects.get(number=outcome.ticket_number)
    assert list(ticket.attachments.values_list("name", flat=True)) == ["ok.txt"]
    body = ticket.messages.get().body
    assert "kept in the original mail: big.bin" in body
    assert [p[0] for p in attachments.mail_parts(bytes(InboundMail.objects.get().raw))] == [
        "big.bin",
        "ok.txt",
    ]


def test_a_follow_up_mail_attaches_to_its_message(customer_a: Tenant) -> None:
    first = inbound.receive(mail_with([]), mailbox=SUPPORT)
    reply = EmailMessage()
    reply["From"] = "alice@c90001.example"
    reply["To"] = "support@provider.example"
    reply["Subject"] = f"Re: [{first.ticket_number}] Screenshots"
    reply["Message-ID"] = "<m2@c90001.example>"
    reply["In-Reply-To"] = "<m1@c90001.example>"
    reply.set_content("and the log")
    reply.add_attachment(b"log", maintype="text", subtype="plain", filename="app.log")
    outcome = inbound.receive(reply.as_bytes(), mailbox=SUPPORT)
    assert outcome.kind == "follow_up"
    a = Attachment.objects.get()
    assert a.message is not None
    assert a.message.message_id == "<m2@c90001.example>"


def test_a_forwarded_mail_is_stored_as_an_eml_file(customer_a: Tenant) -> None:
    inner = EmailMessage()
    inner["From"] = "monitor@example.org"
    inner["Subject"] = "Alert"
    inner.set_content("disk full")
    outer = EmailMessage()
    outer["From"] = "alice@c90001.example"
    outer["To"] = "support@provider.example"
    outer["Subject"] = "Fwd: Alert"
    outer["Message-ID"] = "<fw@c90001.example>"
    outer.set_content("see below")
    outer.add_attachment(inner, disposition="attachment", filename="alert.eml")
    outcome = inbound.receive(outer.as_bytes(), mailbox=SUPPORT)
    assert outcome.kind == "ticket"
    a = Attachment.objects.get()
    assert a.content_type == "message/rfc822"
    with a.file.open("rb") as fh:
        assert b"disk full" in fh.read()


def test_broken_mime_never_raises(customer_a: Tenant) -> None:
    raw = (
        b"From: alice@c90001.example\r\nTo: support@provider.example\r\nSubject: x\r\n"
        b"Message-ID: <broken@c90001.example>\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n"
    )
    outcome = inbound.receive(raw, mailbox=SUPPORT)
    assert outcome.kind in {"ticket", "quarantined"}
    assert attachments.mail_parts(b"\x00\xff garbage") == []


@pytest.mark.django_db(transaction=True)
def test_deleting_a_ticket_takes_its_files_along(ticket_a: Ticket, media: Path) -> None:
    attachments.store(ticket_a, "one.txt", ContentFile(b"1"), "text/plain")
    attachments.store(ticket_a, "two.txt", ContentFile(b"2"), "text/plain")
    assert len(stored_files(media)) == 2
    ticket_a.delete()  # as the admin's delete action does
    assert stored_files(media) == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_deletion_keeps_the_files(ticket_a: Ticket, media: Path) -> None:
    from django.db import transaction

    attachments.store(ticket_a, "one.txt", ContentFile(b"1"), "text/plain")
    ticket_id = ticket_a.pk

    class Abort(Exception):
        pass

    def delete_and_abort() -> None:
        with transaction.atomic():
            ticket_a.delete()
            raise Abort

    with pytest.raises(Abort):
        delete_and_abort()
    assert len(stored_files(media)) == 1
    assert Attachment.objects.filter(ticket_id=ticket_id).count() == 1
