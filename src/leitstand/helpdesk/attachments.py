"""Files on tickets: stored under MEDIA_ROOT with a random name, served only
through permission-checked views.

Issue 6 item 1: "attachments (size limit, stored safely)". The client's file
name is kept for display and for the download's Content-Disposition, never
used on disk (no path traversal, no name that a web server might execute or
that reveals the content). Every download is ``Content-Disposition:
attachment`` with ``X-Content-Type-Options: nosniff``: an uploaded HTML file
is never rendered in our origin, whatever content type the uploader claimed.

Inbound mail: the raw mail stays in ``InboundMail`` (nothing is lost, whatever
happens here); :func:`from_inbound_mail` additionally stores each attachment of
a mail that became a ticket or a follow-up as a file, so staff and customer
download it like any other. An attachment over the size limit is not stored
as a file and the message says so; it remains in the raw mail.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from email import policy
from email.message import Message as MimeMessage
from email.parser import BytesParser
from typing import Any, cast

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leitstand.core.access import customer_required
from leitstand.helpdesk.models import Attachment, InboundMail, Message, Ticket

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024  # issue 6: "25 MB attachments" arrive by mail
MAX_FILES = 20  # per upload form
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
CHUNK = 1024 * 1024


class AttachmentError(ValueError):
    """An upload that cannot be stored, with a message for the person who sent it."""


def max_bytes() -> int:
    """The size limit per file, from the setting ``HELPDESK_ATTACHMENT_MAX_BYTES``."""
    return int(getattr(settings, "HELPDESK_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def human_size(size: int) -> str:
    """``12.3 MB`` for messages (decimal units, as file managers show them)."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    if size >= 1000:
        return f"{size / 1000:.0f} kB"
    return f"{size} B"


def display_name(name: str) -> str:
    """The client's file name, made safe to show and to put in a header.

    Only the last path component (browsers on Windows send ``C:\\...``), no
    control characters, NFC, at most 255 characters keeping the extension.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if not name:
        return "unnamed"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = (stem if dot else name)[: 255 - len(ext) - 1] + ("." + ext if ext else "")
    return name


def clean_content_type(value: str | None) -> str:
    """A syntactically valid ``type/subtype`` (parameters dropped), else octet-stream."""
    value = (value or "").split(";")[0].strip().lower()
    return value if _CONTENT_TYPE.match(value) else "application/octet-stream"


def check_uploads(files: Sequence[Any]) -> list[str]:
    """The problems of a set of uploaded files, as messages for the form (empty: fine)."""
    errors = []
    if len(files) > MAX_FILES:
        errors.append(
            ngettext(
                "At most %(count)d file can be attached at once.",
                "At most %(count)d files can be attached at once.",
                MAX_FILES,
            )
            % {"count": MAX_FILES}
        )
    limit = max_bytes()
    for f in files:
        if f.size > limit:
            errors.append(
                _("%(name)s is %(size)s; the limit is %(limit)s per file.")
                % {
                    "name": display_name(f.name),
                    "size": human_size(f.size),
                    "limit": human_size(limit),
                }
            )
        elif f.size == 0:
            errors.append(_("%(name)s is empty.") % {"name": display_name(f.name)})
    return errors


def store(
    ticket: Ticket,
    name: str,
    content: File[Any],
    content_type: str | None,
    *,
    user: Any = None,
    message: Message | None = None,
    inbound_mail: InboundMail | None = None,
    internal: bool = False,
    at: datetime | None = None,
) -> Attachment:
    """Write one file and its row; raises :class:`AttachmentError` over the limit.

    The size and SHA-256 are measured from the bytes read, not taken from the
    client. If the row cannot be written, the file is removed again.
    """
    limit = max_bytes()
    digest = hashlib.sha256()
    size = 0
    for chunk in content.chunks(CHUNK):
        size += len(chunk)
        if size > limit:
            raise AttachmentError(
                _("%(name)s is larger than the limit of %(limit)s per file.")
                % {"name": display_name(name), "limit": human_size(limit)}
            )
        digest.update(chunk)
    if size == 0:
        raise AttachmentError(_("%(name)s is empty.") % {"name": display_name(name)})
    content.seek(0)
    attachment = Attachment(
        ticket=ticket,
        message=message,
        inbound_mail=inbound_mail,
        name=display_name(name),
        content_type=clean_content_type(content_type),
        size=size,
        sha256=digest.hexdigest(),
        uploaded_at=at or timezone.now(),
        uploaded_by=user,
        internal=internal,
    )
    # The storage picks the random name (models.attachment_path) and never
    # overwrites: a clash gets another suffix from Django's storage.
    attachment.file.save("upload", content, save=False)
    try:
        with transaction.atomic():
            attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


def store_upload(
    ticket: Ticket,
    upload: Any,
    *,
    user: Any = None,
    message: Message | None = None,
    internal: bool = False,
    at: datetime | None = None,
) -> Attachment:
    """:func:`store` for a Django ``UploadedFile``."""
    return store(
        ticket,
        upload.name or "",
        upload,
        getattr(upload, "content_type", None),
        user=user,
        message=message,
        internal=internal,
        at=at,
    )


def store_uploads(
    ticket: Ticket, uploads: Iterable[Any], *, user: Any = None, message: Message | None = None
) -> list[Attachment]:
    """Several uploads at once: all or none (files of a failed set are removed)."""
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            for upload in uploads:
                stored.append(store_upload(ticket, upload, user=user, message=message))
    except Exception:
        for a in stored:
            a.file.delete(save=False)
        raise
    return stored


def form_uploads(request: HttpRequest, form: Any) -> list[Any]:
    """The files of a bound form's request (field ``files``), each problem added
    to the form as an error so that it shows with the form and nothing is saved."""
    files = request.FILES.getlist("files")
    if form.is_bound:
        for problem in check_uploads(files):
            form.add_error(None, problem)
    return files


def save_uploads(
    request: HttpRequest, ticket: Ticket, files: Sequence[Any], message: Message | None = None
) -> None:
    """Store checked uploads after the ticket or message is saved. Should the
    storage fail now (disk full), the request itself stays saved and the person
    is told which files to send again."""
    if not files:
        return
    try:
        store_uploads(ticket, files, user=request.user, message=message)
    except (AttachmentError, OSError) as exc:
        log.exception("uploads to %s not stored", ticket.number)
        from django.contrib import messages  # noqa: PLC0415

        messages.error(
            request,
            _(
                "Your message was saved, but the files could not be stored (%(reason)s). "
                "Please attach them again."
            )
            % {"reason": exc if isinstance(exc, AttachmentError) else _("storage error")},
        )


# --- inbound mail ----------------------------------------------------------


def mail_parts(raw: bytes) -> list[tuple[str, str, bytes]]:
    """``(file name, content type, bytes)`` of every attachment of a raw mail,
    chosen like the parser in mail.py lists them (same rules, same order)."""
    from leitstand.helpdesk.mail import MAX_DEPTH, _filename, _is_attachment, _payload  # noqa: PLC0415

    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:  # the parser quarantines what it cannot read
        return []
    out: list[tuple[str, str, bytes]] = []

    def walk(part: MimeMessage, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        if _is_attachment(part):
            if part.get_content_type() == "message/rfc822":
                inner = part.get_payload()
                first = inner[0] if isinstance(inner, list) and inner else None
                try:
                    data = (first if isinstance(first, MimeMessage) else part).as_bytes()
                except Exception:  # a broken forwarded mail: it stays in the raw mail
                    return
            else:
                data = _payload(part)
            out.append((_filename(part) or "unnamed", part.get_content_type(), data))
            return
        children = part.get_payload() if part.is_multipart() else None
        if isinstance(children, list):
            for child in children:
                if isinstance(child, MimeMessage):
                    walk(child, depth + 1)

    walk(msg, 0)
    return out


def from_inbound_mail(mail: InboundMail) -> list[Attachment]:
    """Store the attachments of a mail that became a ticket or a follow-up as files.

    Idempotent (a mail whose files are stored is skipped), so reprocessing or a
    second delivery stores nothing twice. Files over the size limit are left in
    the raw mail and a note on the message names them.
    """
    if mail.ticket_id is None or mail.outcome not in {
        InboundMail.Outcome.TICKET,
        InboundMail.Outcome.FOLLOW_UP,
    }:
        return []
    if mail.attachments.exists() or mail.truncated:
        return []
    ticket = mail.ticket
    assert ticket is not None
    message = None
    if mail.message_id:
        message = ticket.messages.filter(message_id=mail.message_id).order_by("-pk").first()
    if message is None and mail.processed_at is not None:
        message = (
            ticket.messages.filter(channel=Ticket.Channel.EMAIL, created_at=mail.processed_at)
            .order_by("-pk")
            .first()
        )
    stored: list[Attachment] = []
    skipped: list[str] = []
    limit = max_bytes()
    try:
        with transaction.atomic():
            for name, content_type, data in mail_parts(bytes(mail.raw)):
                if len(data) > limit or not data:
                    skipped.append(display_name(name))
                    continue
                stored.append(
                    store(
                        ticket,
                        name,
                        ContentFile(data),
                        content_type,
                        message=message,
                        inbound_mail=mail,
                        at=mail.received_at,
                    )
                )
            if skipped and message is not None:
                note = _("Not stored as a file (too large or empty), kept in the original mail:")
                message.body = f"{message.body}\n\n{note} {', '.join(skipped)}"
                message.save(update_fields=["body"])
    except Exception:
        for a in stored:
            a.file.delete(save=False)
        raise
    return stored


def store_inbound_safely(mail: InboundMail) -> None:
    """:func:`from_inbound_mail` after the mail's transaction: a failure here is
    logged and costs only the file copies (the raw mail holds the attachments)."""
    try:
        mail.refresh_from_db()
        from_inbound_mail(mail)
    except Exception:
        log.exception("attachments of inbound mail %s not stored as files", mail.pk)


# --- downloads -------------------------------------------------------------


def download_response(attachment: Attachment) -> FileResponse:
    """The file as a download, never rendered by the browser."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@customer_required
def portal_download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """A customer downloads a file of one of its own tickets; anything else is 404
    (another customer's file, and staff-internal files alike)."""
    customer = request.customer  # type: ignore[attr-defined]
    attachment = get_object_or_404(
        Attachment.objects.filter(ticket__customer=customer, internal=False), pk=attachment_id
    )
    return cast("HttpResponse", download_response(attachment))
