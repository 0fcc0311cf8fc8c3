"""Isolation table for norms: the lexicon is national data (no province-owned object behind its routes)."""

from __future__ import annotations

from tests.isolation_spec import NoObject

ROUTES = {
    "norms/": NoObject("the national lexicon page; who may edit is tested in test_views"),
    "norms/rules/add/": NoObject("publishes a national lexicon version (norms.manage)"),
    "norms/rules/remove/": NoObject("publishes a national lexicon version (norms.manage)"),
    "norms/import/": NoObject("replaces the national lexicon from Excel (norms.manage)"),
    "norms/lexicon.xlsx": NoObject("the national lexicon as Excel"),
    "api:GET /api/norms/lexicon": NoObject("the national lexicon in force (everyone reads it)"),
    "api:GET /api/norms/lexicon/versions": NoObject("the national lexicon's versions"),
    "api:POST /api/norms/lexicon": NoObject("publishes a national lexicon version (norms.manage)"),
    "api:POST /api/norms/check": NoObject("checks the posted text; reads no stored object"),
}
