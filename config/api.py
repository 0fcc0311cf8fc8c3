"""The JSON API under /api/: every app's router, one error shape, OpenAPI at /api/openapi.json, docs at /api/docs."""

from ninja import NinjaAPI

from kefu.calls.api import router as calls_router
from kefu.core.api import install_contract, install_error_handlers, install_query_guard
from kefu.customers.api import router as customers_router
from kefu.incidents.api import router as incidents_router
from kefu.knowledge.api import router as knowledge_router
from kefu.norms.api import router as norms_router
from kefu.org.api import router as org_router
from kefu.org.api_auth import API_AUTH
from kefu.quality.api import router as quality_router
from kefu.reports.api import router as reports_router
from kefu.sla.api import router as sla_router
from kefu.tickets.api import router as tickets_router

api = NinjaAPI(
    title="Kefu 客服 API",
    version="1",
    description="新视通(4G版)客服与工单平台接口。认证：浏览器会话(含 CSRF)或 `Authorization: Bearer <token>`。"
    "所有 4xx 错误体为 `{code, message, message_en, details}`。",
    auth=API_AUTH,
    urls_namespace="api",
)
install_error_handlers(api)
api.add_router("/", org_router)
api.add_router("/customers", customers_router)
api.add_router("/tickets", tickets_router)
api.add_router("/sla", sla_router)
api.add_router("/knowledge", knowledge_router)
api.add_router("/reports", reports_router)
api.add_router("/calls", calls_router)
api.add_router("/incidents", incidents_router)
api.add_router("/norms", norms_router)
api.add_router("/quality", quality_router)
install_query_guard(api)
install_contract(api)
