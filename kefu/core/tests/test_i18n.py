"""The English catalog is complete, compiled and keeps every placeholder.

When this fails after adding strings, run ``scripts/i18n.sh``: it re-extracts the
Chinese msgids, compiles, and prints the msgids lacking English as JSON; fill
them in and run ``scripts/i18n.sh fill that.json``.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.core import pofile

LC = Path(settings.BASE_DIR) / "kefu" / "locale" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%|\{\w*\}")


@pytest.fixture(scope="module")
def entries() -> list[pofile.Entry]:
    return [e for e in pofile.parse(LC / "django.po") if not e.is_header and not e.obsolete]


def test_every_msgid_has_english(entries):
    missing = [e.msgid for e in entries if not e.translated]
    assert not missing, (
        f"{len(missing)} msgid(s) lack English, e.g. {missing[:10]}: run scripts/i18n.sh and fill them"
    )


def test_translations_keep_the_placeholders(entries):
    wrong = []
    for e in entries:
        want = sorted(PLACEHOLDER.findall(e.msgid))
        wrong += [(e.msgid, s) for s in e.msgstr.values() if s and sorted(PLACEHOLDER.findall(s)) != want]
    assert not wrong, f"placeholders differ: {wrong[:5]}"


def test_compiled_catalog_matches_the_po(entries):
    with (LC / "django.mo").open("rb") as fh:
        mo = gettext.GNUTranslations(fh)

    def compiled(e: pofile.Entry) -> str:
        return mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt is not None else mo.gettext(e.msgid)

    stale = [
        e.msgid for e in entries if e.msgid_plural is None and e.translated and compiled(e) != e.msgstr[0]
    ]
    assert not stale, f"django.mo is older than django.po ({stale[:5]}): run scripts/i18n.sh"


def test_pofile_round_trip(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n#, python-format\nmsgid "共 %(n)s 个"\n'
        'msgid_plural "共 %(n)s 个"\nmsgstr[0] ""\nmsgstr[1] ""\n\n#, fuzzy\nmsgid "登录"\nmsgstr "Log"\n\n'
        'msgid "引号\\"与\\n换行"\nmsgstr ""\n',
        encoding="utf-8",
    )
    entries = pofile.parse(po)
    assert [e.msgid for e in pofile.untranslated(entries)] == ["共 %(n)s 个", "登录", '引号"与\n换行']
    assert pofile.clear_fuzzy(entries) == 1
    filled = pofile.fill(
        entries,
        {
            "共 %(n)s 个": ["%(n)s item", "%(n)s items"],
            "登录": "Sign in",
            '引号"与\n换行': 'Quote" and\nnewline',
        },
    )
    assert filled == 3
    pofile.write(po, entries)
    again = pofile.parse(po)
    assert pofile.untranslated(again) == []
    assert again[1].msgstr == {0: "%(n)s item", 1: "%(n)s items"}
    assert again[3].msgstr == {0: 'Quote" and\nnewline'}


def test_chinese_is_the_default_and_english_is_served(agent_bj):
    with translation.override("en"):
        assert _("我的工作台") == "My workbench"
    client = Client()
    client.force_login(agent_bj.user)
    assert "我的工作台" in client.get("/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/").content.decode()
    assert "My workbench" in page and "我的工作台" not in page


test_chinese_is_the_default_and_english_is_served = pytest.mark.django_db(
    test_chinese_is_the_default_and_english_is_served
)
