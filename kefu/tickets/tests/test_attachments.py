"""Attachments: type and size limits, server names, authorised downloads served as attachments."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.core.errors import ValidationFailed
from kefu.tickets.attachments import MAX_BYTES, Upload, attachment_add, check
from kefu.tickets.models import Attachment

from .factories import make_ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("page.html", b"<html>", "file_type"),
        ("logo.svg", b"<svg/>", "file_type"),
        ("run.exe", b"MZ", "file_type"),
        ("fake.png", b"<html><script>alert(1)</script>", "file_mismatch"),
        ("notes.txt", b"<!DOCTYPE html><html>", "file_markup"),
        ("empty.pdf", b"", "file_empty"),
        ("big.txt", b"a" * (MAX_BYTES + 1), "file_too_large"),
    ],
)
def test_refused(name, content, code):
    with pytest.raises(ValidationFailed) as exc:
        check(Upload(name=name, content=content))
    assert exc.value.code == code


def test_accepted_types_keep_display_name_only():
    assert check(Upload(name="C:\\Users\\x\\截图.PNG", content=PNG)) == ("截图.PNG", "image/png")
    assert check(Upload(name="日志.txt", content="登录失败".encode("gb18030")))[1].startswith("text/plain")


@pytest.mark.django_db
def test_upload_and_download_via_api(agent_bj, agent_sh):
    t = make_ticket(agent_bj)
    client = Client()
    client.force_login(agent_bj.user)
    response = client.post(
        f"/api/tickets/{t.number}/attachments",
        {"file": SimpleUploadedFile("../../etc/截图.png", PNG, content_type="text/html")},
    )
    assert response.status_code == 201, response.content
    att = Attachment.objects.unscoped("test").get()
    assert att.original_name == "截图.png" and att.content_type == "image/png"
    assert (
        att.storage_name.startswith("tickets/")
        and "png" not in att.storage_name
        and ".." not in att.storage_name
    )
    download = client.get(f"/api/tickets/{t.number}/attachments/{att.pk}")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == PNG
    other = Client()
    other.force_login(agent_sh.user)
    assert other.get(f"/api/tickets/{t.number}/attachments/{att.pk}").status_code == 404


@pytest.mark.django_db
def test_refused_upload_writes_nothing(agent_bj, tmp_path):
    t = make_ticket(agent_bj)
    with pytest.raises(ValidationFailed):
        attachment_add(actor=agent_bj, ticket=t, upload=Upload(name="x.svg", content=b"<svg/>"))
    assert Attachment.objects.unscoped("test").count() == 0
    assert not any(tmp_path.rglob("*"))
